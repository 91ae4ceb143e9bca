# SPDX-License-Identifier: MIT
"""GET /v1/events over loopback: a snapshot first (the /v1/hosts
document), then a join, a leave and an expire, in that order, as the
agents come, say goodbye and die; a client that stops reading is dropped
and neither slows the probe nor the other clients (/metrics counts it). The stuck client runs
in a network namespace of the test's own whose TCP send buffers are
shrunk (net.ipv4.tcp_wmem), with a 4 KB receive window, so that not
reading really fills them; that
part needs root and is skipped without it."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]


class Stream:
    """A raw SSE client: reads what it is sent, parses events."""

    def __init__(self, port, read=True):
        self.s = socket.socket()
        if not read:  # a small window, set before the handshake
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.s.settimeout(5)
        self.s.connect(("127.0.0.1", port))
        # HTTP/1.0: no chunked framing to undo in this raw client.
        self.s.sendall(b"GET /v1/events HTTP/1.0\r\nHost: x\r\n\r\n")
        self.s.setblocking(False)
        self.buf = b""
        self.events = []

    def poll(self):
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return False  # closed
                self.buf += chunk
        except BlockingIOError:
            pass
        while b"\n\n" in self.buf:
            block, self.buf = self.buf.split(b"\n\n", 1)
            if b"\r\n\r\n" in block:  # the HTTP head
                head, block = block.split(b"\r\n\r\n", 1)
                self.head = head.decode()
            name, data = None, []
            for line in block.decode().split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
            if name:
                self.events.append((name, json.loads("\n".join(data))))
        return True


def run(net_prefix=()):
    port_udp = str(t.free_port())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        http = s.getsockname()[1]
    NET = ["--port", port_udp, "--broadcast", "127.255.255.255"]
    procs = []

    def spawn(*cmd):
        p = subprocess.Popen([*net_prefix, *cmd], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        procs.append(p)
        return p
    try:
        spawn(PROBE, "serve", *NET, "--export", f"/tmp/beacon-sse-{port_udp}.json",
              "--http", f"127.0.0.1:{http}", "--new-hosts-per-source", "100000",
              "--max-per-source", "100000")
        t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", http)) == 0, 5)
        return http, NET, spawn, procs
    except Exception:
        for p in procs:
            p.kill()
        raise


# 1. join, leave, expire, in order, after a snapshot (not in the namespace
#    run of part 2).
def part1():
    http, NET, spawn, procs = run()
    try:
        spawn(AGENT, *NET, "--interval", "0.5", "--id", "first", "--hostname", "first")
        time.sleep(0.01)
        st = Stream(http)
        t.wait_for(lambda: st.poll() and st.events, 5)
        t.check(st.events and st.events[0][0] == "snapshot" and "hosts" in st.events[0][1],
                f"a snapshot first: {[e[0] for e in st.events]}")
        t.check("text/event-stream" in getattr(st, "head", ""), "as text/event-stream")
        leaver = spawn(AGENT, *NET, "--interval", "0.5", "--id", "leaver", "--hostname", "leaver")
        dier = spawn(AGENT, *NET, "--interval", "0.5", "--id", "dier", "--hostname", "dier")

        def saw(kind, ident):
            st.poll()
            return any(e[0] == kind and e[1]["id"] == ident for e in st.events)
        t.check(t.wait_for(lambda: saw("join", "leaver") and saw("join", "dier"), 5), "joins")
        time.sleep(2)  # a few beacons each: a short history for the expiry rule
        leaver.send_signal(signal.SIGTERM)
        dier.send_signal(signal.SIGKILL)
        t.check(t.wait_for(lambda: saw("leave", "leaver"), 5), "a leave")
        t.check(t.wait_for(lambda: saw("expire", "dier"), 30), "an expire")
        kinds = [(e[0], e[1].get("id")) for e in st.events]
        order = [kinds.index(k) for k in (("join", "leaver"), ("leave", "leaver"),
                                          ("expire", "dier"))] if all(
            k in kinds for k in (("join", "leaver"), ("leave", "leaver"), ("expire", "dier"))) else []
        t.check(order == sorted(order) and order, f"in order: {kinds}")
        t.check(all(e[1]["event"] == e[0] for e in st.events[1:]),
                "each event's data is its watch --events line")
    finally:
        t.stop(procs)


if os.environ.get("BEACON_SSE_NS") != "1":
    part1()

# 2. A client that stops reading, in a namespace with small TCP buffers.
if os.geteuid() != 0 or os.environ.get("BEACON_SSE_NS") == "1":
    if os.environ.get("BEACON_SSE_NS") != "1":
        print("SKIP (part 2): a stuck client needs root for its namespace")
        t.finish()
else:
    r = subprocess.run(["unshare", "--net", sys.executable, __file__],
                       env=dict(os.environ, BEACON_SSE_NS="1"), timeout=120)
    t.check(r.returncode == 0, "the stuck-client part (in its own namespace) passed")
    t.finish()

# (In the namespace.)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
# The probe's send buffers small: a client that does not read fills them
# (and its own 4 KB window) at once, instead of megabytes later.
subprocess.run(["sysctl", "-qw", "net.ipv4.tcp_wmem=4096 4096 4096"], check=True)
http, NET, spawn, procs = run()
try:
    stuck = Stream(http, read=False)
    good = Stream(http)
    lock = threading.Lock()

    def reader():  # a client that keeps reading, as a browser does
        while True:
            with lock:
                alive = good.poll()
            if not alive:
                return
            time.sleep(0.002)
    threading.Thread(target=reader, daemon=True).start()
    t.wait_for(lambda: good.events, 5)
    # Many hosts coming and going: events by the thousand, paced.
    from scapy_mailslot import build  # noqa: E402
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    t0 = time.monotonic()
    for i in range(6000):
        b = json.dumps({"v": 1, "id": f"h{i}", "inst": "0123456789abcdef", "seq": 1,
                        "state": "up", "host": f"h{i}", "int_ms": 1000, "ttl_ms": 3000,
                        "tags": {"pad": "x" * 60}}, separators=(",", ":")).encode()
        sock.sendto(build(b, path="\\MAILSLOT\\beacon", dgm_id=i & 0xffff),
                    ("127.0.0.1", int(NET[1])))  # the probe alone listens here
        if i % 200 == 0:
            time.sleep(0.01)
    sent_s = time.monotonic() - t0
    t.check(t.wait_for(lambda: sum(1 for e in good.events if e[0] == "join") >= 5900, 20),
            f"the reading client got the joins: "
            f"{sum(1 for e in good.events if e[0] == 'join')}")

    def stuck_closed():
        try:
            stuck.s.setblocking(True)
            stuck.s.settimeout(0.1)
            while stuck.s.recv(1 << 20):
                pass
            return True  # EOF: the probe let it go
        except socket.timeout:
            return False
        except OSError:
            return True
    t.check(t.wait_for(stuck_closed, 10), "the client that stopped reading was dropped")
    code = subprocess.run(["python3", "-c", f"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:{http}/healthz',timeout=5).status)"],
                          capture_output=True, text=True).stdout.strip()
    t.check(code == "200", f"the probe still answers: {code}")
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{http}/metrics", timeout=10) as r:
        m = r.read().decode()
    t.check("\nbeacon_http_events_dropped_total 1\n" in m,
            "/metrics counts the dropped stream: "
            f"{[l for l in m.splitlines() if l.startswith('beacon_http_events')]}")
    print(f"6000 beacons sent in {sent_s:.2f} s with a stuck client attached")
finally:
    t.stop(procs)
t.finish()
