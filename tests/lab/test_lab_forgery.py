# SPDX-License-Identifier: MIT
"""Forged datagrams from another lab host against a probe and a real host
(interval 1 s): each forgery changes the real host's row for at most about
one of its intervals, and most not at all (docs/liveness.md, "What one
forged datagram can do"). The figures are how long the row was wrong, from
the probe's own events. Root only; skips (77) elsewhere."""
import json
import os
import signal
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
from scapy_mailslot import build  # noqa: E402

INTERVAL = 1.0
figures = {}


def forge(sender, row, **change):
    b = {"v": 1, "id": "real", "inst": row["instance"], "seq": row["seq"] + 1,
         "state": "up", "host": "real", "int_ms": 1000, "ttl_ms": 3000}
    b.update(change)
    data = json.dumps(b, separators=(",", ":")).encode()
    pr.send_raw(sender, [build(data, path="\\MAILSLOT\\beacon", src_ip=sender.addrs[0],
                             dgm_id=int(time.monotonic() * 1000) & 0xffff)])


def events_after(watch, since, *kinds):
    return [e for e in watch.events() if e["id"] == "real" and e["event"] in kinds
            and pr.event_time(e) >= since]


with lablib.Lab("fg") as lab:
    probe = lab.host("probe")
    real = lab.host("real")
    evil = lab.host("evil")
    serve = pr.Serve(probe)
    watch = pr.Watch(probe)
    agent = pr.agent(real, "--id", "real", "--hostname", "real", interval="1")
    row = serve.wait(lambda hs: "real" in hs and hs["real"]["beacons_received"] >= 4, 15)
    t.check(row is not None, "the real host is in the table")
    row = row["real"]

    # 1. A jump to 2^53-1, then a goodbye there: refused; never wrong.
    t0 = time.time()
    forge(evil, row, seq=2**53 - 1, host="evil")
    forge(evil, row, seq=2**53 - 1, state="bye")
    later = serve.wait(lambda hs: hs["real"]["seq"] >= row["seq"] + 2, 5)
    t.check(later is not None and later["real"]["hostname"] == "real" and
            later["real"]["status"] == "alive" and later["real"]["seq"] < 2**40,
            "a jump to 2^53-1 is refused and does not freeze the row")
    t.check(not events_after(watch, t0, "leave", "update"), "no event from it")
    figures["seq_max_wrong_s"] = 0.0
    row = serve.hosts()["real"]

    # 2. A forged goodbye with the next seq: left until the next beacon.
    t0 = time.time()
    forge(evil, row, state="bye")
    back = t.wait_for(lambda: events_after(watch, t0, "join"), 5)
    leave = events_after(watch, t0, "leave")
    t.check(leave and back, "a forged goodbye is undone by the host's next beacon")
    if leave and back:
        wrong = pr.event_time(back[0]) - pr.event_time(leave[0])
        figures["forged_bye_wrong_s"] = round(wrong, 3)
        t.check(wrong <= INTERVAL * 1.1 + 0.1, f"left for {wrong:.3f} s")
    row = serve.hosts()["real"]

    # 3. A jump of 40 inside the window, with another hostname: undone by
    # the host's own next beacon.
    t0 = time.time()
    forge(evil, row, seq=row["seq"] + 40, host="evil")
    ups = t.wait_for(lambda: (lambda u: u if len(u) >= 2 else None)(
        events_after(watch, t0, "update")), 5)
    t.check(ups is not None, "the forged hostname shows, then the real one")
    if ups:
        wrong = pr.event_time(ups[1]) - pr.event_time(ups[0])
        figures["forged_jump_wrong_s"] = round(wrong, 3)
        t.check(wrong <= INTERVAL * 1.1 + 0.1, f"wrong for {wrong:.3f} s")
        t.check(serve.wait(lambda hs: hs["real"]["hostname"] == "real", 2) is not None,
                "the row has the real hostname again")
    row = serve.hosts()["real"]

    # 4. A forged restart (another instance id) saying goodbye.
    t0 = time.time()
    forge(evil, row, inst="forged", seq=1, state="bye")
    back = t.wait_for(lambda: (lambda r: r if len(r) >= 2 else None)(
        events_after(watch, t0, "restart")), 5)
    t.check(back is not None, "a forged instance is replaced by the real one")
    if back:
        wrong = pr.event_time(back[1]) - pr.event_time(back[0])
        figures["forged_restart_wrong_s"] = round(wrong, 3)
        t.check(wrong <= INTERVAL * 1.1 + 0.1, f"wrong for {wrong:.3f} s")

    # 5. Many forged ids from one address: rate-limited; the table keeps
    # the real host.
    junk = [build(json.dumps({"v": 1, "id": f"f{i}", "inst": "i", "seq": 1,
                              "state": "up", "host": f"f{i}", "int_ms": 86400000,
                              "ttl_ms": 864000000}).encode(),
                  path="\\MAILSLOT\\beacon", src_ip=evil.addrs[0], dgm_id=i)
            for i in range(500)]
    pr.send_raw(evil, junk)
    d = t.wait_for(lambda: (lambda x: x if x and x["stats"]["dropped"]["new_host_rate"] >= 300
                            else None)(serve.doc()), 5)
    t.check(d is not None, "new hosts from one source are rate-limited")
    if d:
        forged = [h for h in d["hosts"] if h["id"].startswith("f")]
        figures["forged_ids_taken"] = len(forged)
        figures["forged_ids_refused"] = d["stats"]["dropped"]["new_host_rate"]
        t.check(all(h["ttl_ms"] <= 3600000 for h in forged),
                "a forged one-day TTL is capped at 1 hour")

    # 6. A forged beacon after the real goodbye: back to left after one
    # missed beacon and one unanswered query.
    agent.send_signal(signal.SIGTERM)
    t.check(watch.wait("leave", "real", 5) is not None and agent.wait(5) == 0,
            "the real host leaves")
    row = serve.wait(lambda hs: hs["real"]["status"] == "left", 5)["real"]
    t0 = time.time()
    forge(evil, row, seq=row["seq"] + 3)
    join = t.wait_for(lambda: events_after(watch, t0, "join"), 5)
    left = t.wait_for(lambda: events_after(watch, t0, "leave"), 5)
    t.check(join and left, "a beacon after a real goodbye does not last")
    if join and left:
        wrong = pr.event_time(left[0]) - pr.event_time(join[0])
        figures["forged_return_wrong_s"] = round(wrong, 3)
        t.check(wrong <= INTERVAL * 1.1 + 0.1 + 0.2 + 0.1, f"alive for {wrong:.3f} s")

print("figures:", json.dumps(figures))
t.finish()
