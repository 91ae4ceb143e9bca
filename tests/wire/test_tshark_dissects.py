# SPDX-License-Identifier: MIT
"""Datagrams built by our encoder, in both styles, are dissected by tshark
as SMB mailslot writes to the right name with the right payload and
offsets. The "hello" frames also equal the reference capture byte for byte
(that part skips when ../shared is absent)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

t.need("tshark")
try:
    from scapy.all import Ether, IP, UDP, Raw, wrpcap
except ImportError:
    print("FAIL: python3-scapy is not installed (see the README)")
    sys.exit(1)


def encode(style, mtype, flags, src, dst, path, data, ip="198.18.0.10",
           dgm_id="0x1234", prio="0"):
    out = subprocess.run(
        [t.DGRAM_TOOL, "encode", style, mtype, flags, dgm_id, ip, "138",
         src[0], src[1], dst[0], dst[1], prio, path, data.hex()],
        capture_output=True, text=True, check=True)
    return bytes.fromhex(out.stdout.strip())


FIELDS = ["nbdgm.type", "nbdgm.first", "nbdgm.next", "nbdgm.src.ip",
          "nbdgm.source_name", "nbdgm.destination_name", "nbdgm.dgram_len",
          "smb.cmd", "smb.data_offset", "smb.dc", "smb.bcc",
          "smb.trans_name", "mailslot.opcode", "mailslot.class", "mailslot.name",
          "data.data"]


def tshark_name(name, suffix):
    """tshark shows "*" with its NUL padding as <00> bytes."""
    name = name.upper()
    if name == "*":
        name += "<00>" * 14
    return f"{name}<{int(suffix, 16):02x}>"


def dissect(frames):
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        pkts = [Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff") /
                IP(src="198.18.0.10", dst="198.18.0.255") /
                UDP(sport=138, dport=138) / Raw(fr) for fr in frames]
        wrpcap(f.name, pkts)
        cmd = ["tshark", "-r", f.name, "-T", "fields", "-E", "separator=/t"]
        for fld in FIELDS:
            cmd += ["-e", fld]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [dict(zip(FIELDS, line.split("\t")))
            for line in res.stdout.splitlines()]


head = b'{"v":1,"id":"4f1c2a9e","host":"lab-host-01","state":"up","pad":"'
beacon = head + b"x" * (424 - len(head) - 2) + b'"}'  # the largest beacon
cases = [
    # style, type, flags, src, dst, path, data, expected DataOffset
    ("padded", "0x11", "0x02", ("SENDER", "0"), ("WORKGROUP", "0"),
     "\\MAILSLOT\\BEACON", b"hello", 88),
    ("unpadded", "0x11", "0x02", ("SENDER", "0"), ("WORKGROUP", "0"),
     "\\MAILSLOT\\BEACON", b"hello", 86),
    ("unpadded", "0x11", "0x0a", ("lab-host-01", "0"), ("WORKGROUP", "0"),
     "\\MAILSLOT\\beacon", beacon, 86),
    ("padded", "0x11", "0x0e", ("lab-host-01", "0"), ("OFFICE", "0"),
     "\\MAILSLOT\\beacon", beacon, 88),
    ("padded", "0x10", "0x02", ("PROBE", "0"), ("LAB-HOST-02", "0"),
     "\\MAILSLOT\\beacon\\query", b'{"q":1}', 92),
    ("unpadded", "0x12", "0x02", ("PROBE", "0x20"), ("*", "0"),
     "\\MAILSLOT\\beacon\\query", b"", 92),
]
frames = [encode(*c[:7]) for c in cases]
rows = dissect(frames)
t.check(len(rows) == len(cases), "one dissection per frame")
for c, fr, r in zip(cases, frames, rows):
    style, mtype, flags, src, dst, path, data, doff = c
    what = f"{style} {path} {len(data)} bytes"
    t.check(r["nbdgm.type"] == str(int(mtype, 16)), f"{what}: type {r['nbdgm.type']}")
    t.check(r["nbdgm.first"] in ("1", "True"), f"{what}: first fragment flag")
    t.check(r["nbdgm.next"] in ("0", "False"), f"{what}: no more fragments")
    t.check(r["nbdgm.src.ip"] == "198.18.0.10", f"{what}: source ip")
    t.check(r["nbdgm.source_name"] == tshark_name(*src),
            f"{what}: source name {r['nbdgm.source_name']}")
    t.check(r["nbdgm.destination_name"] == tshark_name(*dst),
            f"{what}: destination name {r['nbdgm.destination_name']}")
    t.check(r["nbdgm.dgram_len"] == str(len(fr) - 14), f"{what}: DGM_LENGTH")
    t.check(r["smb.cmd"] == "0x25" or r["smb.cmd"] == "37", f"{what}: SMB command {r['smb.cmd']}")
    t.check(r["smb.data_offset"] == str(doff), f"{what}: DataOffset {r['smb.data_offset']}")
    t.check(r["smb.dc"] == str(len(data)), f"{what}: DataCount")
    t.check(r["smb.trans_name"] == path, f"{what}: transaction name")
    if data:  # tshark hands an empty write to no mailslot dissector
        t.check(r["mailslot.opcode"] == "1", f"{what}: opcode write")
        t.check(r["mailslot.class"] == "2", f"{what}: class 2")
        t.check(r["mailslot.name"] == path,
                f"{what}: mailslot name {r['mailslot.name']!r}")
        t.check(r["data.data"] == data.hex(), f"{what}: payload")
    if style == "padded":
        t.check(doff % 4 == 0, f"{what}: data 4-aligned")

# The reference frames, byte for byte.
ref = os.path.join(t.SHARED_DIR, "captures", "hello-styles-a-b.pcap")
if os.path.exists(ref):
    res = subprocess.run(["tshark", "-r", ref, "-T", "fields", "-e", "udp.payload"],
                         capture_output=True, text=True, check=True)
    want = res.stdout.split()
    for style, hexwant in zip(("padded", "unpadded"), want):
        got = encode(style, "0x11", "0x02", ("SENDER", "0"), ("WORKGROUP", "0"),
                     "\\MAILSLOT\\BEACON", b"hello", ip="192.168.1.10")
        t.check(got.hex() == hexwant, f"hello {style}: equals the reference frame")
else:
    print(f"note: {ref} absent; reference frame comparison skipped")

t.finish()
