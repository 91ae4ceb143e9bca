# SPDX-License-Identifier: MIT
"""Datagrams built independently with scapy's NetBIOS and SMB layers, in
both styles and with odd but legal variants (flags 0x0E/0x0A, DIRECT_UNIQUE
and BROADCAST types, scoped names, priority 1, timeout 1000, an upper-case
mailslot name), are received by `mailslot listen` with the right metadata;
a fragment and a write to another mailslot are not. Loopback only."""
import base64
import json
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

try:
    from scapy_mailslot import build
except ImportError:
    print("FAIL: python3-scapy is not installed (see the README)")
    sys.exit(1)


port = t.free_port()
valid = [
    (dict(), b"style B (unpadded)", {}),
    (dict(padded=True), b"style A (padded)", {}),
    (dict(flags=0x0e, dgm_id=2), b"flags 0x0e", {"flags": 0x0e}),
    (dict(flags=0x0a, padded=True, dgm_id=3), b"flags 0x0a", {"flags": 0x0a}),
    (dict(mtype=0x10, dst="LISTENER", dgm_id=4), b"direct unique",
     {"msg_type": 0x10, "dst_name": "LISTENER<00>"}),
    (dict(mtype=0x12, dgm_id=5), b"broadcast type", {"msg_type": 0x12}),
    (dict(scope="lab.test", dgm_id=6), b"scoped",
     {"src_name": "WINBOX<00>.lab.test", "dst_name": "WORKGROUP<00>.lab.test"}),
    (dict(priority=1, dgm_id=7), b"priority 1", {"priority": 1}),
    (dict(padded=True, timeout=1000, dgm_id=8), b"padded, timeout 1000", {}),
    (dict(path="\\MAILSLOT\\X", dgm_id=9), b"upper-case name",
     {"mailslot": "\\MAILSLOT\\X"}),
    (dict(dgm_id=10, dst_suffix=0x1d), "caf\u00e9 \u2603".encode(),
     {"dst_name": "WORKGROUP<1d>"}),
    (dict(dgm_id=11), b"\x00\x01\xff binary", {"text": None}),
    (dict(dgm_id=12), "c1 \u009b31m csi".encode(), {"text": None}),
]
invalid = [
    build(b"fragment", flags=0x03, dgm_id=20),
    build(b"elsewhere", path="\\MAILSLOT\\other", dgm_id=21),
]

lst = t.Listener(["--port", str(port), "--json", "--count", str(len(valid)),
                  "--timeout", "20", "\\\\.\\mailslot\\x"])
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.bind(("127.0.0.1", 0))
    for dg in invalid:
        s.sendto(dg, ("127.0.0.1", port))
    for i, (kw, data, _) in enumerate(valid):
        # Alternate unicast and the loopback broadcast.
        dest = "127.255.255.255" if i % 2 else "127.0.0.1"
        s.sendto(build(data, **kw), (dest, port))
    s.close()
    rc = lst.wait(30)
finally:
    lst.stop()

t.check(rc == 0, f"listener exit status {rc}: {lst.stderr()}")
got = [json.loads(l) for l in lst.lines()]
t.check(len(got) == len(valid), f"{len(valid)} messages expected, got {len(got)}")
for i, ((kw, data, extra), m) in enumerate(zip(valid, got)):
    what = data[:24]
    t.check(base64.b64decode(m["base64"]) == data, f"{what}: bytes")
    t.check(m["size"] == len(data), f"{what}: size")
    text = extra.get("text", data.decode() if "text" not in extra else None)
    t.check(m["text"] == text, f"{what}: text {m['text']!r}")
    want = {"msg_type": 0x11, "flags": 0x02, "priority": 0,
            "src_name": "WINBOX<00>", "dst_name": "WORKGROUP<00>",
            "mailslot": "\\MAILSLOT\\x", "src_ip": "127.0.0.1",
            "nbt_src_ip": "127.0.0.1", "interface": "lo",
            "dgm_id": kw.get("dgm_id", 1),
            "dst_ip": "127.255.255.255" if i % 2 else "127.0.0.1"}
    want.update({k: v for k, v in extra.items() if k != "text"})
    for k, v in want.items():
        t.check(m.get(k) == v, f"{what}: {k} = {m.get(k)!r}, want {v!r}")
t.check("1 invalid" in lst.stderr() and "1 other mailslots" in lst.stderr(),
        f"drops reported: {lst.stderr()!r}")
t.finish()
