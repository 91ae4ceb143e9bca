# SPDX-License-Identifier: MIT
"""Forged datagrams from another lab host against a probe and a real host
(interval 1 s): each forgery changes the real host's row for at most about
one of its intervals, and most not at all (docs/liveness.md, "What one
forged datagram can do"). The figures are how long the row was wrong, from
the probe's own events. Root only; skips (77) elsewhere."""
import json
import os
import signal
import subprocess
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
    evil2 = lab.host("evil2")
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

    # 6. A beacon from a spoofed source off the probe's subnets (reachable
    # through lab0 by a route, as a remote address would be): when it falls
    # silent, its direct queries go only as a broadcast, never unicast to
    # the address a forger chose.
    probe.run_ok("ip", "route", "add", "198.19.200.0/24", "dev", "lab0")
    before = serve.doc()["stats"]
    spoof = build(json.dumps({"v": 1, "id": "spoofed", "inst": "i", "seq": 1,
                              "state": "up", "host": "spoofed", "int_ms": 100,
                              "ttl_ms": 300}).encode(),
                  path="\\MAILSLOT\\beacon", src_ip="198.19.200.1", dgm_id=7)
    raw = """
import socket, struct, sys
data = sys.stdin.buffer.read()
udp = struct.pack(">HHHH", 138, 138, 8 + len(data), 0) + data
ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                 socket.inet_aton("198.19.200.1"), socket.inet_aton("198.18.0.255"))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(ip + udp, ("198.18.0.255", 0))
"""
    r = subprocess.run(["ip", "netns", "exec", evil2.ns, pr.PY, "-c", raw],
                       input=spoof, capture_output=True, timeout=20)
    t.check(r.returncode == 0, f"a datagram from a spoofed source: {r.stderr}")
    d = t.wait_for(lambda: (lambda x: x if x and x["stats"]["direct_unicasts_off_link"] >
                            before["direct_unicasts_off_link"] else None)(serve.doc()), 5)
    t.check(d is not None and "spoofed" in {h["id"] for h in d["hosts"]},
            f"no unicast query to a spoofed off-link source: {serve.doc()['stats']}")

    # 7. Forged hosts that fall silent at once cannot make the probe an
    # amplifier: at most --max-queries (50) direct queries a second.
    before = serve.doc()["stats"]
    t0 = time.monotonic()
    short = [build(json.dumps({"v": 1, "id": f"s{i}", "inst": "i", "seq": 1,
                               "state": "up", "host": f"s{i}", "int_ms": 100,
                               "ttl_ms": 300}).encode(),
                   path="\\MAILSLOT\\beacon", src_ip=evil2.addrs[0], dgm_id=i)
             for i in range(100)]
    pr.send_raw(evil2, short)
    d = t.wait_for(lambda: (lambda x: x if x and x["stats"]["direct_queries_capped"] >
                            before["direct_queries_capped"] + 100 else None)(serve.doc()), 10)
    elapsed = time.monotonic() - t0
    t.check(d is not None, f"direct queries are capped: {serve.doc()['stats']}")
    if d:
        sent = d["stats"]["direct_queries"] - before["direct_queries"]
        figures["direct_queries_sent"] = sent
        figures["direct_queries_capped"] = (d["stats"]["direct_queries_capped"] -
                                            before["direct_queries_capped"])
        figures["queries_window_s"] = round(elapsed, 2)
        t.check(sent <= 50 * (elapsed + 1), f"{sent} direct queries in {elapsed:.2f} s")

    # 8. A forged beacon after the real goodbye: back to left after one
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
