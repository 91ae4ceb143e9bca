# SPDX-License-Identifier: MIT
"""beacon-agent announces at once when its hostname or addresses change.
Runs in a private network and UTS namespace (unshare, root only; skips
otherwise) whose only traffic is on its own loopback: a listener, an agent,
then a rename and a new address on a veth pair inside it (198.18.0.0/15)."""
import datetime
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
    t.skip("needs root, unshare and ip for a private namespace")
if subprocess.run(["unshare", "--net", "--uts", "true"]).returncode != 0:
    t.skip("namespaces are not available here")

# Inside the namespace: poll the listener's output against a deadline
# before each change, so each announcement is told apart; the fast start
# is over first, so an announcement cannot be a scheduled beacon.
script = r'''
set -eu
ip link set lo up
hostname first-name
"$MAILSLOT" listen --port 47600 --json --timeout 30 '\\.\mailslot\beacon' >"$OUT" 2>"$OUT.err" &
L=$!
trap 'kill $L ${A:-} 2>/dev/null' EXIT
until_grep() {  # until FILE holds PATTERN, at most about 10 s
  i=0; until grep -q "$1" "$2"; do
    i=$((i+1)); [ $i -lt 1000 ] || { echo "timeout waiting for $1" >&2; exit 1; }
    sleep 0.01; done
}
until_grep listening "$OUT.err"   # the listener is bound: no beacon is missed
"$AGENT" --port 47600 --broadcast 127.255.255.255 --interval 60 --id changes &
A=$!
until_grep '"seq\\":3' "$OUT"    # the fast start is over: the next beacon is 54+ s away
date +%s.%N >"$OUT.renamed"
hostname second-name
until_grep second-name "$OUT"
date +%s.%N >"$OUT.addressed"
ip link add lab0 type veth peer name lab1
ip addr add 198.18.77.1/24 dev lab0
ip link set lab1 up; ip link set lab0 up
until_grep 198.18.77.1 "$OUT"
'''
out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"agent-changes-{os.getpid()}.out")
try:
    r = subprocess.run(["unshare", "--net", "--uts", "sh", "-c", script],
                       env={**os.environ, "MAILSLOT": t.MAILSLOT, "AGENT": AGENT, "OUT": out},
                       capture_output=True, text=True, timeout=60)
    t.check(r.returncode == 0, f"namespace script: {r.returncode} {r.stderr}")
    msgs = [json.loads(l) for l in open(out)]
    renamed = float(open(out + ".renamed").read())
    addressed = float(open(out + ".addressed").read())
finally:
    for suffix in ("", ".err", ".renamed", ".addressed"):
        if os.path.exists(out + suffix):
            os.unlink(out + suffix)


def when(m):
    return datetime.datetime.strptime(m["time"], "%Y-%m-%dT%H:%M:%S.%fZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


beacons = [(when(m), json.loads(m["text"])) for m in msgs]
t.check([b["seq"] for _, b in beacons[:3]] == [1, 2, 3], "the three fast-start beacons")
rename = [(at, b) for at, b in beacons if b["host"] == "second-name"]
t.check(bool(rename) and rename[0][1]["seq"] == 4, "the rename is the next beacon")
if rename:
    figures = {"rename_ms": round((rename[0][0] - renamed) * 1000)}
    t.check(rename[0][0] - renamed < 1.0, f"announced at once: {figures['rename_ms']} ms")
new_addr = [(at, b) for at, b in beacons if "198.18.77.1" in b.get("ipv4", [])]
t.check(bool(new_addr) and new_addr[0][1]["seq"] == 5, "the new address is the next beacon")
if new_addr:
    figures["address_ms"] = round((new_addr[0][0] - addressed) * 1000)
    t.check(new_addr[0][0] - addressed < 1.0, f"announced at once: {figures['address_ms']} ms")
    print("FIGURES: " + json.dumps(figures))
t.finish()
