# SPDX-License-Identifier: MIT
"""beacon-agent announces at once when its hostname or addresses change.
Runs in a private network and UTS namespace (unshare, root only; skips
otherwise) whose only traffic is on its own loopback: a listener, an agent,
then a rename and a new address on a veth pair inside it (198.18.0.0/15)."""
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
# before each change, so each announcement is told apart.
script = r'''
set -eu
ip link set lo up
"$MAILSLOT" listen --port 47600 --json --timeout 20 '\\.\mailslot\beacon' >"$OUT" 2>/dev/null &
L=$!
"$AGENT" --port 47600 --broadcast 127.255.255.255 --interval 60 --id changes &
A=$!
trap 'kill $A $L 2>/dev/null' EXIT
wait_lines() {  # until the listener has printed $1 lines, at most 10 s
  i=0; while [ "$(wc -l <"$OUT")" -lt "$1" ]; do
    i=$((i+1)); [ $i -lt 1000 ] || { echo "timeout waiting for $1 lines" >&2; exit 1; }
    sleep 0.01; done
}
hostname first-name
wait_lines 3
hostname second-name
wait_lines 4
ip link add lab0 type veth peer name lab1
ip addr add 198.18.77.1/24 dev lab0
ip link set lab1 up; ip link set lab0 up
wait_lines 5
'''
out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"agent-changes-{os.getpid()}.out")
try:
    r = subprocess.run(["unshare", "--net", "--uts", "sh", "-c", script],
                       env={**os.environ, "MAILSLOT": t.MAILSLOT, "AGENT": AGENT, "OUT": out},
                       capture_output=True, text=True, timeout=60)
    t.check(r.returncode == 0, f"namespace script: {r.returncode} {r.stderr}")
    beacons = [json.loads(json.loads(l)["text"]) for l in open(out)]
finally:
    if os.path.exists(out):
        os.unlink(out)
t.check(len(beacons) >= 5, f"5 beacons: {len(beacons)}")
if len(beacons) >= 5:
    t.check(beacons[3]["host"] == "second-name", f"rename announced: {beacons[3]['host']}")
    t.check(beacons[3]["seq"] == beacons[2]["seq"] + 1, "the rename is the next beacon")
    t.check("198.18.77.1" in beacons[4].get("ipv4", []),
            f"new address announced: {beacons[4].get('ipv4')}")
t.finish()
