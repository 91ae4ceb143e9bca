# SPDX-License-Identifier: MIT
"""End to end over loopback (127.255.255.255 on lo, a high port):
`mailslot send` to \\\\*\\mailslot\\x reaches two listeners on the same port,
each message whole and in order; 424 bytes go, 425 are refused and nothing
is sent."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

port = str(t.free_port())
SLOT = "\\\\*\\mailslot\\x"
BCAST = ["--port", port, "--broadcast", "127.255.255.255"]
msgs = ["one", "two two", "multi\nline\nmessage", "x" * 424]

listeners = [t.Listener(["--port", port, "--json", "--count", str(len(msgs)),
                         "--timeout", "20", "\\\\.\\mailslot\\x"])
             for _ in range(2)]
try:
    r = t.send(BCAST + ["-m", msgs[0], "-m", msgs[1], SLOT])
    t.check(r.returncode == 0, f"send -m -m: exit {r.returncode} {r.stderr!r}")
    r = t.send(BCAST + [SLOT], stdin=msgs[2].encode())
    t.check(r.returncode == 0, f"send stdin: exit {r.returncode} {r.stderr!r}")
    # 425 bytes to a broadcast mailslot: refused, nothing sent.
    r = t.send(BCAST + [SLOT], stdin=b"y" * 425)
    t.check(r.returncode == 1, f"425 bytes: exit {r.returncode}")
    t.check(b"425 bytes" in r.stderr and b"at most 424" in r.stderr,
            f"425 bytes: message names the limit: {r.stderr!r}")
    r = t.send(BCAST + ["-m", "ok", "-m", "y" * 425, SLOT])
    t.check(r.returncode == 1, "a refused -m refuses the whole batch")
    r = t.send(BCAST + [SLOT], stdin=msgs[3].encode())
    t.check(r.returncode == 0, f"424 bytes: exit {r.returncode} {r.stderr!r}")
    codes = [l.wait(30) for l in listeners]
finally:
    for l in listeners:
        l.stop()

for n, l in enumerate(listeners):
    t.check(codes[n] == 0, f"listener {n}: exit {codes[n]}: {l.stderr()}")
    got = [json.loads(x) for x in l.lines()]
    t.check([m["text"] for m in got] == msgs,
            f"listener {n}: exactly the messages, whole and in order: "
            f"{[m['text'][:20] for m in got]}")
    t.check(all(m["dst_ip"] == "127.255.255.255" and m["msg_type"] == 0x11
                and m["dst_name"] == "WORKGROUP<00>" for m in got),
            f"listener {n}: DIRECT_GROUP to WORKGROUP<00> at the broadcast")
    t.check(all(m["src_port"] == int(port) for m in got),
            f"listener {n}: sent from the mailslot port")
t.finish()
