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
"$AGENT" --port 47600 --broadcast 127.255.255.255 --interval 60 --id changes 2>"$OUT.agent" &
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
# A burst: 400 address changes (200 added, 200 removed) over about 1.5 s,
# in 20 batches of 20.
date +%s.%N >"$OUT.burst"
for op in add del; do
  b=0
  while [ $b -lt 10 ]; do
    : >"$OUT.batch"; i=1
    while [ $i -le 20 ]; do echo "addr $op 198.18.78.$((b * 20 + i))/32 dev lab0" >>"$OUT.batch"; i=$((i+1)); done
    ip -batch "$OUT.batch"; sleep 0.075; b=$((b+1))
  done
done
date +%s.%N >>"$OUT.burst"
ip addr add 198.18.79.1/24 dev lab0   # the last state: this one
until_grep 198.18.79.1 "$OUT"
# Renames in other UTS namespaces wake the agent once, not each time.
c0=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$A/status)
i=0
while [ $i -lt 10 ]; do unshare --uts sh -c "hostname foreign$i"; i=$((i+1)); done
sleep 0.3
c1=$(awk '/^voluntary_ctxt_switches/ {print $2}' /proc/$A/status)
echo $((c1 - c0)) >"$OUT.foreign"
# A 64-byte system hostname: announced cut to 63, said once.
hostname "$LONG"
until_grep "${LONG%?}" "$OUT"
hostname "${LONG}"b 2>/dev/null || true
hostname "x$LONG" 2>/dev/null || hostname "$LONG"
sleep 0.6  # two more changes' worth of time, to see the warning is not repeated
'''
out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"agent-changes-{os.getpid()}.out")
LONG = "h" * 64
try:
    r = subprocess.run(["unshare", "--net", "--uts", "sh", "-c", script],
                       env={**os.environ, "MAILSLOT": t.MAILSLOT, "AGENT": AGENT, "OUT": out,
                            "LONG": LONG},
                       capture_output=True, text=True, timeout=60)
    t.check(r.returncode == 0, f"namespace script: {r.returncode} {r.stderr}")
    msgs = [json.loads(l) for l in open(out)]
    renamed = float(open(out + ".renamed").read())
    addressed = float(open(out + ".addressed").read())
    burst = [float(x) for x in open(out + ".burst").read().split()]
    foreign = int(open(out + ".foreign").read())
    agent_err = open(out + ".agent").read()
finally:
    for suffix in ("", ".err", ".renamed", ".addressed", ".burst", ".batch", ".agent",
                   ".foreign"):
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

# The burst: at most one announcement per 250 ms, the last state winning.
during = [b for at, b in beacons if burst[0] <= at <= burst[1] + 0.3]
allowed = int((burst[1] - burst[0] + 0.3) / 0.25) + 2
figures["burst_s"] = round(burst[1] - burst[0], 2)
figures["burst_beacons"] = len(during)
t.check(len(during) <= allowed,
        f"400 changes in {figures['burst_s']} s: {len(during)} beacons (at most {allowed})")
final = [b for at, b in beacons if "198.18.79.1" in b.get("ipv4", [])]
t.check(final and not any(a.startswith("198.18.78.") for a in final[0]["ipv4"]),
        "the last state is announced, without the removed addresses")

# Other namespaces' renames: one wake-up, then the agent leaves the
# signal alone for a while (and looks at its hostname before each beacon).
figures["foreign_rename_wakeups"] = foreign
t.check(foreign <= 2, f"10 renames elsewhere woke the agent {foreign} times")

# The long hostname: cut to 63 bytes, said once.
cut = [b for _, b in beacons if b["host"] == LONG[:63]]
t.check(bool(cut), "a 64-byte hostname is announced as its first 63 bytes")
t.check(agent_err.count("over 63 bytes") == 1,
        f"and said once: {agent_err.count('over 63 bytes')}")
print("FIGURES: " + json.dumps(figures))

# systemd's first-boot placeholder is not a machine id.
if subprocess.run(["unshare", "--mount", "true"]).returncode == 0:
    placeholder = out + ".mid"
    with open(placeholder, "w") as f:
        f.write("uninitialized\n")
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            'mount --bind "$1" /etc/machine-id && '
                            'if [ -e /var/lib/dbus/machine-id ]; then '
                            'mount --bind "$1" /var/lib/dbus/machine-id; fi; '
                            'exec "$2" --print', "sh", placeholder, AGENT],
                           capture_output=True, text=True, timeout=20)
        t.check(r.returncode == 1 and "uninitialized" in r.stderr,
                f"machine id 'uninitialized' is refused: {r.returncode} {r.stderr!r}")
    finally:
        os.unlink(placeholder)
t.finish()
