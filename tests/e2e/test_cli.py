# SPDX-License-Identifier: MIT
"""The mailslot tool's interface: help, usage errors (exit 2), errors that
name the cause and the fix (exit 1), timeouts, signals, and escaping of
network text in the terminal output. Loopback only."""
import os
import shutil
import stat
import tempfile
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402


def run(*args, stdin=None, timeout=20):
    return subprocess.run([t.MAILSLOT, *args], input=stdin,
                          capture_output=True, timeout=timeout)


r = run("--help")
t.check(r.returncode == 0 and b"mailslot send" in r.stdout, "--help")
for sub in ("send", "listen"):
    r = run(sub, "--help")
    t.check(r.returncode == 0 and b"--port" in r.stdout, f"{sub} --help")
t.check(run("-V").stdout.startswith(b"mailslot "), "-V prints the version")

usage = [
    ((), b"usage"),
    (("frobnicate",), b"unknown command"),
    (("send",), b"missing SLOT"),
    (("send", "--port", "0", "\\\\*\\mailslot\\x"), b"port must be"),
    (("send", "--port", "70000", "\\\\*\\mailslot\\x"), b"port must be"),
    (("send", "--priority", "12", "\\\\*\\mailslot\\x"), b"priority"),
    (("send", "--bogus", "\\\\*\\mailslot\\x"), b"invalid option"),
    (("send", "-m", "a", "mailslot\\x"), b"must start with"),
    (("send", "-m", "a", "\\\\*\\pipe\\x"), b"\\\\SERVER\\mailslot\\NAME"),
    (("send", "-m", "a", "\\\\*\\mailslot\\"), b"invalid mailslot name"),
    (("listen", "--timeout", "abc", "\\\\.\\mailslot\\x"), b"timeout"),
    (("listen", "--count", "0", "\\\\.\\mailslot\\x"), b"count"),
    (("listen", "\\\\*\\mailslot\\x"), b"\\\\.\\mailslot\\NAME"),
    (("listen", "\\\\.\\mailslot\\x", "b"), b"b: mailslot name must start with"),
    (("listen", "--all", "\\\\.\\mailslot\\x"), b"names or --all, not both"),
    (("listen",), b"missing SLOT (or --all)"),
]
usage += [
    (("send", "-b", "255.255.255.255", "-m", "a", "\\\\*\\mailslot\\x"),
     b"255.255.255.255 is never used"),
    (("send", "-b", "nonsense", "-m", "a", "\\\\*\\mailslot\\x"),
     b"not an IPv4 address"),
    (("send", "-i", "nonexistent0", "-m", "a", "\\\\*\\mailslot\\x"),
     b"no such interface"),
    (("send", "-w", "a.b", "-m", "a", "\\\\*\\mailslot\\x"),
     b"not a NetBIOS name"),
]
for args, says in usage:
    r = run(*args)
    t.check(r.returncode == 64, f"{args}: exit {r.returncode}, want 64")
    t.check(says in r.stderr, f"{args}: stderr says {says!r}: {r.stderr!r}")

# The same checks, and the same usage status, in the other two programs;
# and export paths that must never be replaced.
EXPORT_DIR = tempfile.mkdtemp(prefix="beacon-cli-")
EXPORT_FIFO = os.path.join(EXPORT_DIR, "fifo")
os.mkfifo(EXPORT_FIFO)
EXPORT_LINK = os.path.join(EXPORT_DIR, "link")
os.symlink(EXPORT_FIFO, EXPORT_LINK)
for prog, args, says in [
    (os.environ["BEACON_AGENT"], ("--broadcast", "nonsense"), b"not an IPv4 address"),
    (os.environ["BEACON_AGENT"], ("--broadcast", "0.0.0.0"), b"not broadcasts"),
    (os.environ["BEACON_AGENT"], ("--workgroup", "*"), b"not a NetBIOS name"),
    (os.environ["BEACON_AGENT"], ("--interface", "x" * 20), b"not an interface name"),
    (os.environ["BEACON_AGENT"], ("--bogus",), b"invalid option"),
    (os.environ["BEACON_PROBE"], ("list", "--broadcast", "255.255.255.255"),
     b"never used"),
    (os.environ["BEACON_PROBE"], ("list", "--interface", "nonexistent0"),
     b"no such interface"),
    (os.environ["BEACON_PROBE"], ("list", "--workgroup", "way-too-long-for-netbios"),
     b"not a NetBIOS name"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", "/dev/null"),
     b"character device"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", EXPORT_DIR), b"a directory"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", EXPORT_FIFO), b"a FIFO"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", EXPORT_LINK),
     b"a symbolic link"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", EXPORT_DIR + "/" + "x" * 5000),
     b"not a usable file name"),
    (os.environ["BEACON_PROBE"], ("serve", "--export", EXPORT_DIR + "/no/such/x.json"),
     b"does not exist"),
]:
    r = subprocess.run([prog, *args], capture_output=True, timeout=20)
    if args[0] == "serve":
        # Not a usage error: refused at start, never replaced, nothing bound.
        t.check(r.returncode == 1 and says in r.stderr,
                f"serve --export {args[2][:60]} refused: {r.returncode} {r.stderr!r}")
        continue
    t.check(r.returncode == 64, f"{prog} {args}: exit {r.returncode}, want 64")
    t.check(says in r.stderr, f"{prog} {args}: stderr says {says!r}: {r.stderr!r}")
t.check(os.path.exists("/dev/null") and not os.path.isfile("/dev/null"),
        "/dev/null untouched")
t.check(stat.S_ISFIFO(os.stat(EXPORT_FIFO).st_mode) and os.path.islink(EXPORT_LINK),
        "the FIFO and the link are untouched")
shutil.rmtree(EXPORT_DIR)

port = str(t.free_port())
errors = [
    (("send", "--port", port, "--from", "bad.name", "-m", "a",
      "\\\\127.0.0.1\\mailslot\\x"), b"NetBIOS name"),
    (("listen", "--port", port, "--count", "1", "--timeout", "0.3",
      "\\\\.\\mailslot\\x"), b"timed out after 0.300 s with 0 of 1"),
]
for args, says in errors:
    r = run(*args)
    t.check(r.returncode == 1, f"{args}: exit {r.returncode}, want 1")
    t.check(says in r.stderr, f"{args}: stderr says {says!r}: {r.stderr!r}")

r = run("listen", "--port", port, "--timeout", "0.2", "\\\\.\\mailslot\\x")
t.check(r.returncode == 0, "a timeout without --count is a normal end")

# Binding port 138 without privilege: the error says what to do.
start = int(open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read())
setpriv = shutil.which("setpriv")
if os.geteuid() == 0 and start > 138 and setpriv:
    drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"]
    if subprocess.run(drop + ["test", "-x", t.MAILSLOT]).returncode == 0:
        r = subprocess.run(drop + [t.MAILSLOT, "listen", "--count", "1",
                                   "\\\\.\\mailslot\\x"],
                           capture_output=True, timeout=20)
        t.check(r.returncode == 1, f"port 138 unprivileged: exit {r.returncode}")
        for says in (b"port 138 is privileged", b"root",
                     b"CAP_NET_BIND_SERVICE", b"--port"):
            t.check(says in r.stderr, f"port 138 error mentions {says!r}: {r.stderr!r}")
    else:
        print("note: the binary is not executable by nobody; privilege check skipped")
else:
    print("note: not root or port 138 is unprivileged here; privilege check skipped")

# Terminal output escapes what the network sends; SIGTERM ends a listener.
lst = t.Listener(["--port", port, "\\\\.\\mailslot\\x"])
try:
    r = run("send", "--port", port, "-b", "127.255.255.255", "--from", "evil",
            "\\\\*\\mailslot\\x", stdin=b"\x1b[2J\x1b]0;pwned\x07\r\nbye\\")
    t.check(r.returncode == 0, f"send: {r.stderr!r}")
    line = t.wait_for(lambda: lst.stdout(), 10)
    t.check("EVIL<00> -> WORKGROUP<00> \\MAILSLOT\\x [lo] 20 bytes: "
            "\\x1b[2J\\x1b]0;pwned\\x07\\x0d\\x0abye\\\\\n" in line,
            f"escaped line: {line!r}")
    t.check(not any(ord(c) < 0x20 and c != "\n" for c in line),
            "no control characters reach the terminal")
    t0 = time.monotonic()
    lst.proc.send_signal(signal.SIGTERM)
    rc = lst.wait(5)
    t.check(rc == 0 and time.monotonic() - t0 < 2.5,
            f"SIGTERM: exit {rc} after {time.monotonic() - t0:.2f} s")
finally:
    lst.stop()
t.finish()
