# SPDX-License-Identifier: MIT
"""Every browse message in the reference captures (Windows 98 to 10, Samba,
macOS; over UDP, and over IPX and NetBEUI with the SMB part put in an NBT
datagram of ours) decodes, and every host, local master and domain
announcement to the fields tshark shows for it. Skips when ../shared is
absent."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

pcap = t.shared("captures", "browse-frames.pcapng")
t.need("tshark")
import scapy_mailslot as sm  # noqa: E402  (after the skip: scapy is Debian's)

FIELDS = ["browser.command", "browser.update_count", "browser.period",
          "browser.server", "browser.os_major", "browser.os_minor",
          "browser.server_type", "browser.proto_major", "browser.proto_minor",
          "browser.sig", "browser.comment", "browser.mb_server"]
cmd = ["tshark", "-r", pcap, "-Y", "browser", "-T", "fields", "-E", "separator=/t",
       "-e", "frame.number"]
for f in FIELDS:
    cmd += ["-e", f]
res = subprocess.run(cmd, capture_output=True, text=True, check=True)
shark = {int(r[0]): r[1:] for r in (l.split("\t") for l in res.stdout.splitlines())}

frames = sm.capture_datagrams(pcap)
t.check(len(frames) == 134 and sum(w for _, _, w in frames) == 21,
        f"134 mailslot frames, 21 of them without NBT: {len(frames)}")
dec = subprocess.run([t.DGRAM_TOOL, "decode"], capture_output=True, text=True, check=True,
                     input="".join(d.hex() + "\n" for _, d, _ in frames))
data = [l.split("\t")[-1] for l in dec.stdout.splitlines()]
out = subprocess.run([t.DGRAM_TOOL, "browse"], capture_output=True, text=True, check=True,
                     input="".join(x + "\n" for x in data)).stdout.splitlines()
t.check(len(out) == len(frames), "one line per message")

announcements = {0x01: 0, 0x0c: 0, 0x0f: 0}
for (frame, _, _), line in zip(frames, out):
    got = line.split("\t")
    if got[0] != "ok":
        t.check(False, f"frame {frame}: {line}")
        continue
    want = shark.get(frame)
    if want is None:
        t.check(False, f"frame {frame}: tshark shows no browser message")
        continue
    opcode = int(got[1], 16)
    t.check(opcode == int(want[0], 16), f"frame {frame}: opcode {got[1]} vs {want[0]}")
    if opcode not in announcements:
        continue
    announcements[opcode] += 1
    # ours: ok opcode count period name major minor type bmajor bminor sig comment roles
    mine = [got[1], got[2], got[3], got[4], got[5], got[6], got[7], got[8], got[9],
            got[10], got[11]]
    if opcode == 0x0c:  # the comment holds the workgroup's master browser
        want = want[:10] + [want[11]]
    for name, a, b in zip(FIELDS, want, mine):
        if name == "browser.command":
            continue
        if name in ("browser.proto_major", "browser.proto_minor", "browser.sig") \
                and opcode == 0x0c:
            continue  # tshark shows these 4 bytes of a domain announcement as one field
        if a.startswith("0x") or b.startswith("0x"):
            a, b = int(a or "0", 16), int(b or "0", 16)
        t.check(a == b, f"frame {frame}: {name}: tshark {a!r}, ours {b!r}")
t.check(announcements == {0x01: 26, 0x0c: 15, 0x0f: 11},
        f"every announcement compared: {announcements}")
t.finish()
