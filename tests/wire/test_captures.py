# SPDX-License-Identifier: MIT
"""Every UDP mailslot datagram in the reference captures (Windows 98 to 10,
Samba, macOS) decodes to the same fields tshark shows for it, and to the
same payload bytes. Skips when ../shared is absent."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

pcap = t.shared("captures", "browse-frames.pcapng")
t.need("tshark")

FIELDS = ["frame.number", "udp.payload", "nbdgm.type", "nbdgm.flags",
          "nbdgm.dgram_id", "nbdgm.src.ip", "nbdgm.src.port",
          "nbdgm.source_name", "nbdgm.destination_name", "smb.data_offset",
          "smb.dc", "mailslot.name", "mailslot.priority", "mailslot.class",
          "smb.timeout"]
cmd = ["tshark", "-r", pcap, "-Y", "nbdgm", "-T", "fields",
       "-E", "separator=/t"]
for f in FIELDS:
    cmd += ["-e", f]
res = subprocess.run(cmd, capture_output=True, text=True, check=True)
rows = [line.split("\t") for line in res.stdout.splitlines()]
t.check(len(rows) == 113, f"113 NBT mailslot frames expected, tshark gave {len(rows)}")

payloads = "\n".join(r[1] for r in rows) + "\n"
dec = subprocess.run([t.DGRAM_TOOL, "decode"], input=payloads,
                     capture_output=True, text=True, check=True)
ours = [line.split("\t") for line in dec.stdout.splitlines()]
t.check(len(ours) == len(rows), "one decode line per frame")

for want, got in zip(rows, ours):
    frame, payload, *fields = want
    if got[0] != "ok":
        t.check(False, f"frame {frame}: decode error {got[1]}")
        continue
    # ours: ok type flags id ip port src dst doff dlen path prio class timeout data
    mine = got[1:14]
    for name, a, b in zip(FIELDS[2:], fields, mine):
        t.check(a == b, f"frame {frame}: {name}: tshark {a!r}, ours {b!r}")
    doff, dlen = int(fields[7]), int(fields[8])
    start = 82 + doff  # both names unscoped: 14 + 34 + 34 bytes before the SMB
    t.check(got[14] == payload[2 * start:2 * (start + dlen)],
            f"frame {frame}: payload bytes differ")

t.finish()
