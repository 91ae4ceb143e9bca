# SPDX-License-Identifier: MIT
"""Two segments (198.18.0.0/24, 198.18.1.0/24); a multi-homed host on both
and a probe on both: the host is one row with both addresses, its second
copy of each beacon a duplicate. Root only; skips (77) elsewhere."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import lablib  # noqa: E402
import probes as pr  # noqa: E402
import testlib as t  # noqa: E402

why = lablib.available()
if why:
    t.skip(why)

with lablib.Lab("mh", segments=2) as lab:
    probe = lab.host("probe", segments=(0, 1))
    mh = lab.host("multi", segments=(0, 1))
    a0 = lab.host("only0", segments=(0,))
    a1 = lab.host("only1", segments=(1,))
    for h in (mh, a0, a1):
        pr.agent(h, "--id", h.name, interval="10")
    r = pr.probe_list(probe, "--wait", "2", "--json")
    t.check(r.returncode == 0, f"list: {r.stderr}")
    doc = json.loads(r.stdout)
    rows = {h["id"]: h for h in doc["hosts"]}
    t.check(sorted(rows) == ["multi", "only0", "only1"], f"three rows: {sorted(rows)}")
    m = rows.get("multi")
    both = sorted(mh.addrs.values())
    t.check(m is not None and sorted(m["claimed"]["ipv4"]) == both,
            f"the multi-homed row claims both addresses: {m and m['claimed']}")
    t.check(m is not None and sorted(s["address"] for s in m["seen"]) == both,
            f"and was seen from both: {m and m['seen']}")
    t.check(m is not None and sorted(s["interface"] for s in m["seen"]) == ["lab0", "lab1"],
            "on both of the probe's interfaces")
    t.check(rows.get("only1", {}).get("seen", [{}])[0].get("address") == a1.addrs[1],
            "a host on the second segment is seen there")
    t.check(doc["stats"]["duplicates"] >= 1, f"copies counted as duplicates: {doc['stats']['duplicates']}")
t.finish()
