# SPDX-License-Identifier: MIT
"""MQTT against brokers that misbehave, all on 127.0.0.1 (issue 19):

* a "broker" (here, in Python) that answers CONNACK and then never reads:
  serve --mqtt under a churn of beacons keeps its memory bounded (RSS
  measured, and its own count of messages in libmosquitto at exit), and
  says once that the broker is not keeping up;
* a broker whose SYNs are dropped (a listening socket whose accept queue
  is full: the kernel drops the SYNs): list --mqtt --wait 1 gives up
  within the connect deadline (5 s) plus --wait, naming the broker and
  the cause, exit 1;
* over 256 sites on Debian's mosquitto (started here): list --mqtt says
  so once, marks it in the JSON document (left_out) and exits 1.
Every process and socket is ended in the end, also on failure."""
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
tmp = tempfile.mkdtemp(prefix="beacon-mqtt-bounds-")
procs, socks = [], []


def packet(kind, body):
    """An MQTT packet: its type byte, the remaining length, the body."""
    n, rl = len(body), b""
    while True:
        b, n = n & 0x7f, n >> 7
        rl += bytes([b | (0x80 if n else 0)])
        if not n:
            return bytes([kind]) + rl + body


def mqtt_str(s):
    return struct.pack(">H", len(s)) + s


def read_packet(s):
    """One packet's bytes (the CONNECT), read to its end."""
    head = s.recv(1)
    mult, n = 1, 0
    while True:
        b = s.recv(1)[0]
        n += (b & 0x7f) * mult
        mult *= 128
        if not b & 0x80:
            break
    body = b""
    while len(body) < n:
        chunk = s.recv(n - len(body))
        if not chunk:
            break
        body += chunk
    return head + body


def deaf_broker():
    """A listener that answers each CONNECT with a CONNACK, then never
    reads again (a small receive buffer, so the probe feels it soon)."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(0.2)
    socks.append(ls)
    stop = threading.Event()

    def run():
        while not stop.is_set() and len(socks) < 64:  # bounded: reconnects
            try:
                c, _ = ls.accept()
            except (socket.timeout, OSError):
                continue
            socks.append(c)
            c.settimeout(5)
            try:
                read_packet(c)
                c.sendall(b"\x20\x02\x00\x00")
            except OSError:
                pass
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return ls.getsockname()[1], stop


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def part_deaf_broker():
    from scapy_mailslot import build  # noqa: E402
    port, stop = deaf_broker()
    udp = t.free_port()
    env = dict(os.environ)
    # ASan keeps freed blocks in a quarantine (256 MB by default), which
    # RSS would count: a small one, so RSS is what the probe holds.
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    err = open(os.path.join(tmp, "serve.log"), "w+")
    serve = subprocess.Popen([PROBE, "serve", "--port", str(udp), "--broadcast",
                              "127.255.255.255", "--no-solicit", "--no-browse",
                              "--export", os.path.join(tmp, "h.json"),
                              "--max-per-source", "10000000",
                              "--new-hosts-per-source", "1000000",
                              "--mqtt", f"mqtt://127.0.0.1:{port}", "--site", "deaf"],
                             stdout=subprocess.DEVNULL, stderr=err, env=env)
    procs.append(serve)
    t.check(t.wait_for(lambda: len(socks) >= 2, 10), "the probe connected to the deaf broker")
    # 200 hosts, each beacon with a new tag value: an update event each,
    # a row (QoS 1) and an event (QoS 0) to publish. Same-length payloads:
    # scapy builds the header once.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    socks.append(sock)

    def payload(i, k):
        return json.dumps({"v": 1, "id": f"h{i:04d}", "inst": "0123456789abcdef",
                           "seq": 1000000 + k, "state": "up", "host": f"h{i:04d}",
                           "int_ms": 100, "ttl_ms": 3000, "tags": {"k": f"{k:08d}"}},
                          separators=(",", ":")).encode()
    p0 = payload(0, 0)
    head = build(p0, path="\\MAILSLOT\\beacon")
    t.check(head.endswith(p0), "the datagram ends with its payload")
    head = head[:-len(p0)]
    t0 = time.monotonic()
    samples, k = [], 0
    while time.monotonic() - t0 < 25 and serve.poll() is None and k < 100000:
        for i in range(200):
            sock.sendto(head + payload(i, k), ("127.0.0.1", udp))
        k += 1
        now = time.monotonic() - t0
        if (not samples and now >= 5) or (samples and now >= samples[-1][0] + 5):
            samples.append((now, rss_kb(serve.pid)))
        time.sleep(0.1)
    sent = k * 200
    serve.send_signal(signal.SIGTERM)
    try:
        serve.wait(15)
    except subprocess.TimeoutExpired:
        t.check(False, "serve ends on SIGTERM with a deaf broker")
    stop.set()
    err.seek(0)
    log = err.read()
    growth = (samples[-1][1] - samples[0][1]) / 1024 if len(samples) > 1 else None
    print(f"deaf broker: {sent} beacons in {time.monotonic() - t0:.0f} s; RSS (MB) at "
          + ", ".join(f"{s:.0f} s: {r / 1024:.1f}" for s, r in samples))
    t.check(growth is not None and growth < 8,
            f"RSS grows by {growth} MB from 5 s to the end (bound: 8)")
    t.check(log.count("not keeping up") == 1, f"said once that the broker is not keeping up: {log!r}")
    left = re.search(r"(\d+) still unacknowledged at exit \(at most (\d+),", log)
    t.check(left is not None and int(left.group(1)) <= int(left.group(2)),
            f"the probe's count of messages in libmosquitto is bounded: {log[-300:]!r}")


def part_dropped_syns():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    socks.append(ls)
    port = ls.getsockname()[1]
    # Fill the accept queue (never accepted): the kernel then drops SYNs.
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(c)
    t0 = time.monotonic()
    try:
        r = subprocess.run([PROBE, "list", "--mqtt", f"mqtt://127.0.0.1:{port}", "--wait", "1"],
                           capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        t.check(False, "list --mqtt with dropped SYNs: still running after 20 s")
        return
    took = time.monotonic() - t0
    print(f"dropped SYNs: list --mqtt --wait 1 exits {r.returncode} after {took:.1f} s")
    t.check(r.returncode == 1 and took < 5 + 1 + 3 and f"127.0.0.1:{port}" in r.stderr and
            "no TCP connection" in r.stderr,
            f"gives up within the deadline, naming the broker and the cause: "
            f"{r.returncode} {took:.1f} s {r.stderr!r}")


def part_many_sites():
    if shutil.which("mosquitto") is None:
        print("no mosquitto: the sites' bound is not tried")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    b = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(tmp, "broker.log"), "a"))
    procs.append(b)
    t.check(t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 5),
            "mosquitto listens")
    # 300 sites, a retained row each, from one client; a PINGREQ after
    # them: its PINGRESP says the broker took them all.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(packet(0x10, mqtt_str(b"MQTT") + b"\x04\x02\x00\x3c" + mqtt_str(b"sites")))
        t.check(read_packet(s)[:1] == b"\x20", "CONNACK")
        for i in range(300):
            row = json.dumps({"id": "h", "hostname": f"h{i:03d}", "status": "alive"}).encode()
            s.sendall(packet(0x31, mqtt_str(f"beacon/v1/s{i:03d}/hosts/h".encode()) + row))
        s.sendall(b"\xc0\x00")
        t.check(read_packet(s)[:1] == b"\xd0", "PINGRESP")
        s.sendall(b"\xe0\x00")
    r = subprocess.run([PROBE, "list", "--mqtt", f"mqtt://127.0.0.1:{port}", "--json",
                        "--wait", "1"], capture_output=True, text=True, timeout=30)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {}
    t.check(r.returncode == 1 and r.stderr.count("over 256 sites") == 1,
            f"over 256 sites: said once, exit 1: {r.returncode} {r.stderr!r}")
    t.check(len(doc.get("hosts", [])) == 256 and doc.get("left_out", {}).get("sites") is True,
            f"the document has 256 sites' rows and says sites were left out: "
            f"{len(doc.get('hosts', []))} {doc.get('left_out')}")


try:
    part_dropped_syns()
    part_many_sites()
    part_deaf_broker()
finally:
    t.stop(procs)
    for s in socks:
        s.close()
t.finish()
