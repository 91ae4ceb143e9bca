# SPDX-License-Identifier: MIT
"""serve --http against slowloris, over loopback: 300 connections from 10
addresses (127.0.7.1-10, bound by the client), each sending a header line
every 2 s and never ending its header. Each address keeps 16 connections at
most, and a request's header must be in within 10 s of the connection's
start however it trickles in; meanwhile /healthz from another address
answers at once. Bounded: 300 connections, 16 s."""
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import shutil

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
ADDRS, PER_ADDR, LINE_S, ATTACK_S = 10, 30, 2.0, 16.0
DEADLINE_S = 10


PORT = t.tcp_port()
tmp = tempfile.mkdtemp(prefix="beacon-slowloris-")
procs, socks = [], []


class Slow:
    def __init__(self, src):
        self.src = src
        self.s = socket.socket()
        self.s.bind((src, 0))
        self.s.settimeout(5)
        self.start = time.monotonic()
        self.closed = None
        try:
            self.s.connect(("127.0.0.1", PORT))
            self.s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            self.closed = time.monotonic()
        self.s.setblocking(False)
        self.next = self.start + LINE_S

    def step(self, now):
        if self.closed is not None:
            return
        try:
            if not self.s.recv(4096):
                self.closed = now
                return
        except BlockingIOError:
            pass
        except OSError:
            self.closed = now
            return
        if now >= self.next:
            self.next += LINE_S
            try:
                self.s.send(b"X-Slow: still here\r\n")
            except OSError:
                self.closed = now


try:
    serve = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                              "--http", f"127.0.0.1:{PORT}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(serve)
    t.check(t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", PORT)) == 0, 10),
            "it listens")
    lat, done = [], threading.Event()

    class Src(urllib.request.HTTPHandler):
        """/healthz from 127.0.8.1."""
        def http_open(self, req):
            import http.client
            return self.do_open(lambda host, **kw: http.client.HTTPConnection(
                host, source_address=("127.0.8.1", 0), **kw), req)
    opener = urllib.request.build_opener(Src)

    def health():
        time.sleep(1)  # the attack's connections are in
        while not done.is_set():
            t0 = time.monotonic()
            try:
                ok = opener.open(f"http://127.0.0.1:{PORT}/healthz", timeout=3).status == 200
            except OSError:
                ok = False
            lat.append(time.monotonic() - t0 if ok else 99)
            done.wait(0.5)
    checker = threading.Thread(target=health, daemon=True)
    t0 = time.monotonic()
    socks = [Slow(f"127.0.7.{1 + i % ADDRS}") for i in range(ADDRS * PER_ADDR)]
    print(f"{len(socks)} slow connections opened in {time.monotonic() - t0:.2f} s")
    checker.start()
    while time.monotonic() - t0 < ATTACK_S and any(s.closed is None for s in socks):
        now = time.monotonic()
        for s in socks:
            s.step(now)
        select.select([s.s for s in socks if s.closed is None], [], [], 0.05)
    done.set()
    checker.join(10)
    held = [s.closed - s.start if s.closed is not None else ATTACK_S for s in socks]
    longest = max(held)
    kept = {a: sum(1 for s, h in zip(socks, held) if s.src == a and h > 5)
            for a in {s.src for s in socks}}
    print(f"/healthz during the attack: {len(lat)} tries, max {max(lat) * 1000:.1f} ms, "
          f"median {statistics.median(lat) * 1000:.1f} ms; slow connections held "
          f"{longest:.1f} s at most; kept past 5 s by address: {sorted(kept.values())}")
    t.check(len(lat) >= 5 and max(lat) < 1.0,
            f"/healthz from another address answers during the attack: "
            f"{[round(x, 3) for x in lat]}")
    t.check(longest < DEADLINE_S + 3,
            f"each slow header is cut within {DEADLINE_S} s, lines or not: {longest:.1f} s")
    t.check(max(kept.values()) <= 16, f"16 connections per address at most: {kept}")
    t.check(serve.poll() is None, "the probe is still running")
finally:
    for s in socks:
        s.s.close()
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
