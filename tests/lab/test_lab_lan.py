# SPDX-License-Identifier: MIT
"""A 20-host LAN in network namespaces, agents and probes on the real port
138: discovery by solicitation long after the agents' fast start, the
export agreeing, a late agent, SIGTERM, SIGKILL, a Windows-style sender,
agent and probe restarts, and a flood of bad datagrams. Root only; skips
(77) elsewhere. Broadcasts stay on the lab bridge (198.18.0.0/24)."""
import json
import os
import random
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

N = 20
figures = {}

with lablib.Lab("lan") as lab:
    probe = lab.host("probe")
    hosts = [lab.host(f"h{i:02d}") for i in range(1, N + 1)]
    late, win, flood, killme = (lab.host(n) for n in ("late", "winbox", "flood", "killme"))
    addr = {h.name: h.addrs[0] for h in lab.hosts}

    # A long-running probe (serve and watch) and a host with a short
    # interval, started first, so the probe has its history when it is
    # killed at the end.
    serve = pr.Serve(probe)
    watch = pr.Watch(probe)
    kill_agent = pr.agent(killme, "--id", "killme", interval="0.5")
    agents = {}
    for h in hosts:
        agents[h.name] = pr.agent(h, "--id", h.name, "--tag", f"n={h.index}")
        time.sleep(0.15)  # staggered starts (lab-notes), not a wait for a result
    time.sleep(4)  # past the fast start: the next beacons are 27-33 s away

    # 1. A fresh probe lists all 20 (and killme) within 2 s.
    t0 = time.monotonic()
    r = pr.probe_list(probe, "--wait", "2", "--json")
    figures["list_s"] = round(time.monotonic() - t0, 2)
    t.check(r.returncode == 0, f"list: {r.returncode} {r.stderr}")
    listed = {h["id"]: h for h in json.loads(r.stdout)["hosts"]}
    want = {h.name for h in hosts} | {"killme"}
    t.check(set(listed) == want, f"all hosts listed: missing {want - set(listed)}")
    for ident, h in listed.items():
        t.check(h["claimed"]["ipv4"] == [addr[ident]] and
                [s["address"] for s in h["seen"]] == [addr[ident]],
                f"{ident}: claimed and seen address {addr[ident]}: {h['addresses']}")

    # 2. The serving probe agrees with the list.
    ok = serve.wait(lambda hs: set(hs) >= want, 2.5)
    t.check(ok is not None, f"serve export has every host: {sorted(want - set(serve.hosts()))}")
    exported = serve.hosts()
    t.check(all(exported[i]["addresses"] == listed[i]["addresses"] for i in want if i in exported),
            "export and list agree on addresses")

    # 3. An agent started after the probe appears within 1 s.
    t0 = time.time()
    pr.agent(late, "--id", "late")
    e = watch.wait("join", "late", 5)
    t.check(e is not None, "late agent joins")
    if e:
        figures["late_join_ms"] = round((pr.event_time(e) - t0) * 1000)
        t.check(pr.event_time(e) - t0 < 1.0, f"late agent within 1 s: {figures['late_join_ms']} ms")

    # 4. SIGTERM: left within 0.5 s.
    t0 = time.time()
    agents["h01"].send_signal(signal.SIGTERM)
    e = watch.wait("leave", "h01", 5)
    t.check(e is not None and agents["h01"].wait(5) == 0, "SIGTERM: leave, exit 0")
    if e:
        figures["sigterm_left_ms"] = round((pr.event_time(e) - t0) * 1000, 1)
        t.check(pr.event_time(e) - t0 < 0.5, f"left within 0.5 s: {figures['sigterm_left_ms']} ms")

    # 5. A Windows-style sender: padded client style, from port 138.
    beacon = json.dumps({"v": 1, "id": "win-1", "inst": "w1", "seq": 7, "state": "up",
                         "host": "winbox", "int_ms": 30000, "ttl_ms": 90000,
                         "ipv4": [addr["winbox"]], "os": "Windows"}).encode()
    dg = build(beacon, path="\\MAILSLOT\\beacon", padded=True, flags=0x0e,
               src="WINBOX", dst="WORKGROUP", src_ip=addr["winbox"], dgm_id=4242)
    pr.send_raw(win, [dg], src_port=138)
    t.check(watch.wait("join", "win-1", 5) is not None, "a Windows-style beacon joins")
    w = serve.wait(lambda hs: "win-1" in hs, 5)
    t.check(bool(w) and w["win-1"]["addresses"] == [addr["winbox"]] and w["win-1"]["kind"] == "beacon",
            "accepted like an agent's")

    # 6. Agent restart: a restart, not a new host.
    agents["h02"].kill()
    agents["h02"].wait()
    agents["h02"] = pr.agent(hosts[1], "--id", "h02", "--tag", "n=1")
    t.check(watch.wait("restart", "h02", 5) is not None, "restart event")
    r2 = serve.wait(lambda hs: hs.get("h02", {}).get("restarts") == 1, 5)
    t.check(r2 is not None and len([i for i in r2 if r2[i]["hostname"] == "h02"]) == 1,
            "one row, restarts = 1")

    # 7. A flood of bad datagrams from one host while agents run.
    rnd = random.Random(1234)
    # Random bytes, their first byte never a datagram type that carries
    # data (0x10-0x12), so that none can be a valid write by chance.
    junk = [bytes([rnd.choice([b for b in range(256) if not 0x10 <= b <= 0x12])]) +
            bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 600)))
            for _ in range(2000)]
    big = [build(b'{"pad":"' + b"x" * 600 + b'"}', path="\\MAILSLOT\\beacon",
                 src_ip=addr["flood"], dgm_id=i) for i in range(500)]
    badjson = [build(b'{"v":1,' + str(i).encode(), path="\\MAILSLOT\\beacon",
                     src_ip=addr["flood"], dgm_id=1000 + i) for i in range(500)]
    dupkey = [build(b'{"v":1,"v":1,"n":%d}' % i, path="\\MAILSLOT\\beacon",
                    src_ip=addr["flood"], dgm_id=2000 + i) for i in range(500)]
    before = serve.doc()["stats"]
    rcv_before = pr.udp_rcvbuf_errors(probe)
    t0 = time.monotonic()
    sent = pr.send_raw(flood, junk + big + badjson + dupkey)
    figures["flood"] = f"{sent} datagrams in {time.monotonic() - t0:.1f} s"

    def drops(stats):
        d = stats["dropped"]
        return (sum(v for k, v in d.items() if k.startswith("datagram_")),
                d["oversize"], d["beacon_json"], d["beacon_duplicate"])
    want_delta = (len(junk), len(big), len(badjson), len(dupkey))

    def settled():
        s = serve.doc()["stats"]
        delta = tuple(a - b for a, b in zip(drops(s), drops(before)))
        return delta if delta == want_delta else None
    got = t.wait_for(settled, 10)
    t.check(pr.udp_rcvbuf_errors(probe) == rcv_before, "no datagram lost in the probe's socket")
    t.check(got == want_delta,
            f"drop counters account for the flood: {tuple(a - b for a, b in zip(drops(serve.doc()['stats']), drops(before)))} vs {want_delta}")
    t.check(serve.proc.poll() is None and watch.proc.poll() is None, "the probes are up")
    live = serve.hosts()
    t.check(all(live[h.name]["status"] == "alive" for h in hosts[1:]),
            "every real host still alive")

    # 8. SIGKILL: stale, then expired at its TTL, once the probe has seen
    # 50 beacons (docs/liveness.md: the prior no longer weighs).
    k = serve.wait(lambda hs: hs["killme"]["beacons_received"] >= 55, 60)["killme"]
    figures["killme_beacons"] = k["beacons_received"]
    figures["killme_loss"] = k["loss"]
    t0 = time.time()
    kill_agent.kill()
    st = watch.wait("stale", "killme", 15)
    ex = watch.wait("expire", "killme", 15)
    t.check(st is not None and ex is not None and pr.event_time(st) <= pr.event_time(ex),
            "SIGKILL: stale, then expired")
    if ex:
        figures["sigkill_stale_ms"] = round((pr.event_time(st) - t0) * 1000)
        figures["sigkill_expired_ms"] = round((pr.event_time(ex) - t0) * 1000)
        # At its TTL: 1.5 s of silence since the last beacon the probe got.
        last = pr.rfc3339(serve.wait(lambda hs: hs["killme"]["status"] == "expired", 5)
                          ["killme"]["last_seen"])
        silence = pr.event_time(ex) - last
        figures["silence_at_expiry_ms"] = round(silence * 1000)
        t.check(1.5 - 0.01 <= silence <= 1.5 + 0.1, f"expired at its TTL: {silence:.3f} s of silence")

    # 9. Probe restart: a new probe rebuilds the table from one solicitation.
    serve.proc.send_signal(signal.SIGTERM)
    t.check(serve.proc.wait(10) == 0, "serve exits 0")
    r = pr.probe_list(probe, "--wait", "1", "--json")  # < 1.5 s: one query only
    doc = json.loads(r.stdout)
    alive = {h.name for h in hosts[1:]} | {"late"}
    t.check({h["id"] for h in doc["hosts"]} == alive,
            f"one solicitation finds every live agent: {sorted(alive ^ {h['id'] for h in doc['hosts']})}")
    t.check(doc["stats"]["solicitations"] == 1, "with one query")
    t.check(watch.count("expire") == 1 and watch.count("stale") == 1 and
            watch.count("leave") == 1,
            f"no other host went stale or expired: {watch.count('stale')} {watch.count('expire')}")

print("FIGURES: " + json.dumps(figures))
t.finish()
