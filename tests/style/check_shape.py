# SPDX-License-Identifier: MIT
"""The code's shape, kept: no function over 80 lines in the programs and
libraries; the probe's table (probe/table/) a room of its own, which
includes nothing of the probe's other files (no I/O comes in by a header);
its renderers (probe/render/) including the table's headers and the plain
command-line and counter ones, not the loop's probe.h, and calling nothing
of the loop's I/O (the HTTP server, MQTT, the event queue, sockets): they
read a view and write a FILE.

Functions are found as clang-format lays them out (style.format checks
that): a line "{" at the first column opens one, the next "}" at the first
column closes it."""
import glob
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAX_LINES = 80
bad = []
checked = 0


def functions(path):
    """(name, first line, lines) of each function in a C file."""
    with open(path) as f:
        lines = f.read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line == "{":
            start = i
        elif line == "}" and start is not None:
            head = next((lines[j] for j in range(start - 1, max(start - 4, -1), -1)
                         if "(" in lines[j]), "?")
            yield head.split("(")[0].strip(), start + 1, i - start + 1
            start = None


for d in ("agent", "beacon", "common", "mailslot", "probe"):
    for path in sorted(glob.glob(os.path.join(ROOT, d, "**", "*.c"), recursive=True)):
        for name, line, n in functions(path):
            checked += 1
            if n > MAX_LINES:
                bad.append(f"{os.path.relpath(path, ROOT)}:{line}: {name} is {n} lines "
                           f"(at most {MAX_LINES}: split it)")

# Each room's includes: its own headers, the rooms below it, the beacon and
# mailslot libraries' public ones, common's, and the system's. The table
# is the floor; the renderers stand on it and on the probe's two plain
# data headers (the command line, the counters), never on the loop's
# probe.h.
table = os.path.join(ROOT, "probe", "table")
render = os.path.join(ROOT, "probe", "render")
base = set(os.listdir(os.path.join(ROOT, "common")))
ROOMS = {
    "table": (table, base | set(os.listdir(table))),
    "renderer": (render, base | set(os.listdir(table)) | set(os.listdir(render))
                 | {"config.h", "stats.h"}),
}
for room, (folder, allowed) in ROOMS.items():
    for path in sorted(glob.glob(os.path.join(folder, "*.[ch]"))):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if not m:
                    continue
                checked += 1
                inc = m.group(1)
                if not (inc in allowed or inc.startswith(("beacon/", "mailslot/"))):
                    bad.append(f"{os.path.relpath(path, ROOT)}:{n}: the {room} includes "
                               f"\"{inc}\", outside its room")

# The renderers: no call into the loop's I/O.
IO = re.compile(r"\b((?:http|httpauth|mqtt|mqtt_link|events|merged|pwcheck|privdrop)_\w+"
                r"|probe_(?:open|close|receive|take|solicit|ask|browse_request|"
                r"refresh_solicit|flush_events|run)"
                r"|socket|connect|bind|sendto|sendmsg|recvfrom|recvmsg|recvmmsg)\s*\(")
for path in sorted(glob.glob(os.path.join(ROOT, "probe", "render", "*.[ch]"))):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            checked += 1
            m = IO.search(line.split("//")[0])
            if m and not line.lstrip().startswith(("*", "/*")):
                bad.append(f"{os.path.relpath(path, ROOT)}:{n}: the renderer calls "
                           f"{m.group(1)}(), the loop's I/O")

for b in bad:
    print(f"FAIL: {b}")
print(f"{checked - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
