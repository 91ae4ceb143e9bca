# SPDX-License-Identifier: MIT
"""Young hosts killed without a word on a clean link: expired no later than
their TTL after their last beacon plus one query round, single- and
multi-homed, because the probe takes a young host's loss from what it has
measured on that link (docs/liveness.md). Interval 0.5 s, TTL 1.5 s.
Root only; skips (77) elsewhere."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import lablib  # noqa: E402
import probes as pr  # noqa: E402
import testlib as t  # noqa: E402

why = lablib.available()
if why:
    t.skip(why)

TTL = 1.5
ROUND = 0.1 + 0.125 + 0.05  # an answer's wait, a query gap, a tick's slack
figures = {}

with lablib.Lab("yg", segments=2) as lab:
    probe = lab.host("probe", segments=(0, 1))
    olds = [lab.host(f"o{i}", segments=(i % 2,)) for i in range(8)]
    young = {"y1": lab.host("y1", segments=(0,)),
             "y2": lab.host("y2", segments=(0, 1))}
    serve = pr.Serve(probe)
    watch = pr.Watch(probe)
    for h in olds:
        pr.agent(h, "--id", h.name, interval="0.5")
    # The probe learns both links: 50 beacons on each (4 hosts, 2 a second).
    ok = serve.wait(lambda hs: sum(hs[h.name]["beacons_received"] for h in olds
                                   if h.name in hs) >= 2 * 60, 30)
    t.check(ok is not None, "the probe has a history of both links")

    for name, host in young.items():
        agent = pr.agent(host, "--id", name, interval="0.5")
        hs = serve.wait(lambda h: name in h and h[name]["beacons_received"] >= 3, 10)
        t.check(hs is not None, f"{name} has sent 3 beacons")
        if hs:
            figures[f"{name}_loss_estimate"] = round(hs[name]["loss"], 4)
        agent.kill()
        ex = watch.wait("expire", name, 20)
        t.check(ex is not None, f"{name}: expired")
        if not ex:
            continue
        row = serve.wait(lambda h: h[name]["status"] == "expired", 5)[name]
        silence = pr.event_time(ex) - pr.rfc3339(row["last_seen"])
        figures[f"{name}_silence_at_expiry_ms"] = round(silence * 1000)
        figures[f"{name}_age_s"] = round(pr.rfc3339(row["last_seen"]) -
                                         pr.rfc3339(row["first_seen"]), 2)
        t.check(silence <= TTL + ROUND,
                f"{name}: expired {silence:.3f} s after its last beacon (TTL {TTL} s)")
        t.check(silence >= TTL - 0.01, f"{name}: not before its TTL: {silence:.3f}")
    t.check(watch.count("expire") == 2 and watch.count("stale") <= 2,
            f"no old host went stale or expired: {watch.count('stale')} {watch.count('expire')}")

print("figures:", json.dumps(figures))
t.finish()
