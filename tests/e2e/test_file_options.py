# SPDX-License-Identifier: MIT
"""Every file option given a FIFO (or a directory, or a device) is refused
at once, before anything waits on it: beacon-probe's --keyring,
--http-auth, --http-cert, --http-key, --mqtt-password-file (serve and
list) and --mqtt-cafile (serve and list), and beacon-agent's --keyring.
Each exits 1 within seconds, saying which option, the path, what it is
and what to give instead. Nothing is ever written to the FIFOs: a
program that opened one for reading would wait there for ever (and
SIGTERM could not end it), which the test's timeout turns into a
failure."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
tmp = tempfile.mkdtemp(prefix="beacon-fifo-")


def private(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def refused(what, cmd, option, kind):
    """CMD exits 1 within 10 s, naming OPTION, its path and KIND."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:  # run() killed it
        t.check(False, f"{what}: still running after 10 s (blocked on the {kind}?)")
        return
    t.check(r.returncode == 1 and option in r.stderr and kind in r.stderr and
            "not a regular file" in r.stderr,
            f"{what}: exit {r.returncode}, {r.stderr.strip()!r}")


fifo = os.path.join(tmp, "fifo")
os.mkfifo(fifo, 0o600)
mqtt = f"127.0.0.1:{t.tcp_port()}"  # nothing listens: never reached
http = ["--http", f"127.0.0.1:{t.tcp_port()}"]
serve = [PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json")]
cert, key = private("cert.pem", "not read\n"), private("key.pem", "not read\n")
cases = [
    ("serve --keyring", [*serve, "--keyring", fifo], "keyring", "FIFO"),
    ("serve --http-auth", [*serve, *http, "--http-auth", fifo], "--http-auth", "FIFO"),
    ("serve --http-cert", [*serve, *http, "--http-cert", fifo, "--http-key", key],
     "--http-cert", "FIFO"),
    ("serve --http-key", [*serve, *http, "--http-cert", cert, "--http-key", fifo],
     "--http-key", "FIFO"),
    ("serve --mqtt-password-file",
     [*serve, "--mqtt", f"mqtt://ops@{mqtt}", "--mqtt-password-file", fifo, "--site", "s"],
     "--mqtt-password-file", "FIFO"),
    ("serve --mqtt-cafile",
     [*serve, "--mqtt", f"mqtts://{mqtt}", "--mqtt-cafile", fifo, "--site", "s"],
     "--mqtt-cafile", "FIFO"),
    ("list --mqtt-password-file",
     [PROBE, "list", "--mqtt", f"mqtt://ops@{mqtt}", "--mqtt-password-file", fifo],
     "--mqtt-password-file", "FIFO"),
    ("watch --mqtt-cafile",
     [PROBE, "watch", "--mqtt", f"mqtts://{mqtt}", "--mqtt-cafile", fifo],
     "--mqtt-cafile", "FIFO"),
    ("agent --keyring", [AGENT, *NET, "--once", "--keyring", fifo], "keyring", "FIFO"),
    ("serve --http-auth DIR", [*serve, *http, "--http-auth", tmp], "--http-auth", "directory"),
    ("list --mqtt-cafile DIR", [PROBE, "list", "--mqtt", f"mqtts://{mqtt}",
                                "--mqtt-cafile", tmp], "--mqtt-cafile", "directory"),
    ("serve --keyring /dev/null", [*serve, "--keyring", "/dev/null"], "keyring", "device"),
]
try:
    for what, cmd, option, kind in cases:
        refused(what, cmd, option, kind)
finally:
    os.unlink(fifo)
t.finish()
