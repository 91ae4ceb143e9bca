# SPDX-License-Identifier: MIT
"""Helpers for the script tests: skip/fail, ports, running the tool.

Every wait polls a condition against a deadline; nothing sleeps and hopes.
Tests only ever send to 127.0.0.0/8.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
MAILSLOT = os.environ.get("MAILSLOT", "mailslot")
DGRAM_TOOL = os.environ.get("DGRAM_TOOL", "dgram_tool")
SHARED_DIR = os.environ.get("SHARED_DIR", "")

_failures = []
_checks = 0


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def check(cond, what):
    """Record one assertion; keep going so one run shows every failure."""
    global _checks
    _checks += 1
    if not cond:
        _failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return bool(cond)


def finish():
    passed = _checks - len(_failures)
    print(f"{passed} passed, {len(_failures)} failed")
    sys.exit(1 if _failures else 0)


def need(prog):
    if shutil.which(prog) is None:
        print(f"FAIL: {prog} is not installed (see the README's first command)")
        sys.exit(1)


def shared(*parts):
    """A file under ../shared, or skip when the folder is absent."""
    path = os.path.join(SHARED_DIR, *parts)
    if not SHARED_DIR or not os.path.exists(path):
        skip(f"{path or 'SHARED_DIR'} is absent")
    return path


def tcp_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port():
    """A high UDP port nothing is bound to on 127.0.0.1 right now."""
    import socket
    for _ in range(100):
        port = random.randint(20000, 60000)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("0.0.0.0", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def stop(procs, term=False):
    """End every process of PROCS still running, then wait for each: with
    TERM, SIGTERM first and 10 s to exit (so it can clean up), else
    SIGKILL."""
    import signal
    import subprocess
    for p in procs:
        if p.poll() is None:
            if term:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            else:
                p.kill()
        p.wait()


def reader(stream, out):
    """Append (time.monotonic(), line) to OUT for every line of STREAM, in
    a thread, until it ends."""
    import threading

    def run():
        for line in stream:
            out.append((time.monotonic(), line))
    threading.Thread(target=run, daemon=True).start()


def wait_for(cond, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(step)


def metric(http, series):
    """The value of one series (its name and labels, as /metrics writes
    them) from the probe's http://HTTP/metrics, as a number; None while it
    does not answer or has no such series."""
    import re
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://{http}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    m = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.M)
    return float(m.group(1)) if m else None


class Listener:
    """`mailslot listen` in the background, output in temporary files."""

    def __init__(self, args):
        import weakref
        # The listener appends to files of its own opening; the test reads
        # through others. (A shared file and offset let a seek(0) here send
        # the listener's next line over the first ones.)
        d = tempfile.mkdtemp(prefix="beacon-listen-")
        weakref.finalize(self, shutil.rmtree, d, True)
        self.out = os.path.join(d, "out")
        self.err = os.path.join(d, "err")
        with open(self.out, "a") as out, open(self.err, "a") as err:
            self.proc = subprocess.Popen([MAILSLOT, "listen", *args],
                                         stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        ready = wait_for(lambda: "listening on" in self.stderr()
                         or self.proc.poll() is not None, 5)
        if self.proc.poll() is not None or not ready:
            raise RuntimeError("listener did not start: " + self.stderr())

    def _read(self, path):
        with open(path) as f:
            return f.read()

    def stdout(self):
        return self._read(self.out)

    def stderr(self):
        return self._read(self.err)

    def lines(self):
        return [l for l in self.stdout().splitlines() if l]

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.wait(5)


def send(args, stdin=None):
    return subprocess.run([MAILSLOT, "send", *args], input=stdin,
                          capture_output=True, timeout=30)


def udp_servers(port):
    """How many unconnected UDP sockets are bound to 0.0.0.0:PORT in this
    network namespace (servers, not the clients connected to a peer)."""
    n = 0
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            local, remote = line.split()[1:3]
            if local == f"00000000:{int(port):04X}" and remote == "00000000:0000":
                n += 1
    return n


def wait_udp_servers(port, n, timeout=10):
    """Poll until at least N servers are bound to PORT: a program that
    prints no readiness line is ready once its socket exists."""
    return wait_for(lambda: udp_servers(port) >= n, timeout, 0.005)
