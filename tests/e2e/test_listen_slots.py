# SPDX-License-Identifier: MIT
"""`mailslot listen` with several mailslot names takes the messages to each
of them and counts the rest as other mailslots; with --all it takes every
mailslot's, each with its path. Over loopback (127.255.255.255, a high
port)."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

port = str(t.free_port())
BCAST = ["--port", port, "--broadcast", "127.255.255.255"]
slots = ["gamma", "alpha", "BROWSE"]  # the other one first: read before the two
two = t.Listener(["--port", port, "--json", "--count", "2", "--timeout", "20",
                  "\\\\.\\mailslot\\alpha", "\\\\.\\MAILSLOT\\browse"])
every = t.Listener(["--port", port, "--json", "--count", "3", "--timeout", "20", "--all"])
try:
    for s in slots:
        r = t.send(BCAST + ["-m", f"to {s}", f"\\\\*\\mailslot\\{s}"])
        t.check(r.returncode == 0, f"send to {s}: exit {r.returncode} {r.stderr!r}")
    codes = [two.wait(30), every.wait(30)]
finally:
    two.stop()
    every.stop()

t.check(codes == [0, 0], f"both listeners got their count: {codes} {two.stderr()} {every.stderr()}")
got = [json.loads(x) for x in two.lines()]
t.check([(m["mailslot"], m["text"]) for m in got] ==
        [("\\MAILSLOT\\alpha", "to alpha"), ("\\MAILSLOT\\BROWSE", "to BROWSE")],
        f"two names: both their messages, with their paths (case-insensitive): {got}")
t.check("1 other mailslots" in two.stderr(), f"the third counted as another mailslot: {two.stderr()}")
got = [json.loads(x) for x in every.lines()]
t.check([m["mailslot"] for m in got] == [f"\\MAILSLOT\\{s}" for s in slots],
        f"--all: every message with its path: {[m['mailslot'] for m in got]}")
t.finish()
