# SPDX-License-Identifier: MIT
"""The interfaces a real host has: a secondary address in another subnet,
a /32 (a VIP), a point-to-point TUN link, a bridge named like a container
bridge, an IPv6-only link, and an interface that appears while the agent
runs. The agent broadcasts on every address with a directed broadcast (one
copy each), skips the rest with its reason, never exits or stays silent
for want of one, and starts within a second of one appearing. Root only;
skips (77) elsewhere."""
import json
import os
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

figures = {}

with lablib.Lab("if") as lab:
    probe = lab.host("probe")
    odd = lab.host("odd")
    late = lab.host("late")
    second = odd.addrs[0].replace("198.18.", "198.19.")
    # The probe hears the second subnet too (a broadcast to 198.19.0.255
    # is delivered only where that subnet is local).
    probe.run_ok("ip", "addr", "add", "198.19.0.1/24", "dev", "lab0")
    odd.run_ok("ip", "addr", "add", f"{second}/24", "dev", "lab0")
    # A VIP: a /32 on an interface of its own.
    odd.run_ok("ip", "link", "add", "vip0", "type", "veth", "peer", "name", "vip0p")
    odd.run_ok("ip", "link", "set", "vip0", "up")
    odd.run_ok("ip", "link", "set", "vip0p", "up")
    odd.run_ok("ip", "addr", "add", "198.18.9.9/32", "dev", "vip0")
    # A tunnel: point-to-point (a TUN device; this kernel has no ipip/gre).
    odd.run_ok("ip", "tuntap", "add", "tun0", "mode", "tun")
    odd.run_ok("ip", "addr", "add", "198.18.8.1", "peer", "198.18.8.2", "dev", "tun0")
    odd.run_ok("ip", "link", "set", "tun0", "up")
    # A bridge named like Docker's, with a subnet and a broadcast.
    odd.run_ok("ip", "link", "add", "docker0", "type", "bridge")
    odd.run_ok("ip", "link", "set", "docker0", "up")
    odd.run_ok("ip", "addr", "add", "198.18.6.1/24", "dev", "docker0")
    # An IPv6-only link.
    odd.run_ok("ip", "link", "add", "v6only", "type", "veth", "peer", "name", "v6p")
    odd.run_ok("ip", "link", "set", "v6only", "up")
    odd.run_ok("ip", "link", "set", "v6p", "up")
    odd.run_ok("ip", "addr", "add", "2001:db8::7/64", "dev", "v6only", "nodad")

    serve = pr.Serve(probe)
    watch = pr.Watch(probe)
    t.check(t.wait_for(lambda: os.path.exists(serve.path), 5) is not None,
            "the probe is up")

    # --once works although a /32 and a tunnel are up (it used to fail).
    r = subprocess.run(["ip", "netns", "exec", odd.ns, pr.AGENT, "--id", "odd",
                        "--once"], capture_output=True, text=True, timeout=20)
    t.check(r.returncode == 0, f"--once with a /32 and a tunnel: {r.returncode} {r.stderr}")
    log = r.stderr
    for says in (f"lab0 {odd.addrs[0]}: broadcast to 198.18.0.255",
                 f"lab0 {second}: broadcast to 198.19.0.255",
                 "vip0 198.18.9.9: skipped, no directed broadcast",
                 "tun0 198.18.8.1: skipped, point-to-point",
                 "docker0 198.18.6.1: skipped, container/VM",
                 "lo 127.0.0.1: skipped, loopback"):
        t.check(says in log, f"the agent says '{says}': {log!r}")

    # The daemon: one row, both copies seen, the VIP and the tunnel claimed.
    pr.agent(odd, "--id", "odd", interval="1")
    hs = serve.wait(lambda h: "odd" in h and len(h["odd"]["seen"]) == 2, 5)
    t.check(hs is not None, f"odd is seen from both its subnets: {serve.hosts().get('odd')}")
    if hs:
        row = hs["odd"]
        t.check(sorted(s["address"] for s in row["seen"]) == sorted([odd.addrs[0], second]),
                f"one copy per broadcast: {row['seen']}")
        t.check("198.18.9.9" in row["claimed"]["ipv4"] and
                "198.18.8.1" in row["claimed"]["ipv4"],
                f"the /32 and the tunnel's address are claimed: {row['claimed']}")
        t.check("198.18.6.1" not in row["claimed"]["ipv4"],
                "the container bridge's address is not")
        t.check("2001:db8::7" in row["claimed"]["ipv6"],
                f"the IPv6-only link's address is claimed: {row['claimed']}")

    # An interface that comes later: the agent waits, then starts at once.
    late.run_ok("ip", "addr", "flush", "dev", "lab0")
    late.run_ok("ip", "link", "set", "lab0", "down")
    err = os.path.join(lab.dir, "late.agent.err")
    # As nobody: the sockets it opens on port 138 when the interface comes
    # need the one capability --user keeps.
    pr.agent(late, "--id", "late", "--user", "nobody", interval="30")
    t.check(t.wait_for(lambda: "waiting for one" in open(err).read(), 5) is not None,
            "with no interface the agent says it waits")
    time.sleep(1.5)  # a silence to check, not a wait for a result
    t.check(watch.find("join", "late") is None, "and sends nothing meanwhile")
    t0 = time.time()
    late.run_ok("ip", "addr", "add", f"{late.addrs[0]}/24", "brd", "198.18.0.255",
                "dev", "lab0")
    late.run_ok("ip", "link", "set", "lab0", "up")
    e = watch.wait("join", "late", 5)
    t.check(e is not None, "the agent starts once the interface is up")
    if e:
        figures["late_interface_join_ms"] = round((pr.event_time(e) - t0) * 1000)
        t.check(pr.event_time(e) - t0 < 1.0,
                f"within a second: {figures['late_interface_join_ms']} ms")
    t.check(sum(1 for l in open(err) if "waiting for one" in l) == 1,
            "said once")

    # A probe that starts with no interface listens, and starts asking as
    # soon as one is usable (it looks every 2 s): the quiet agent "late"
    # (interval 30 s) is found by its answer, not by its schedule.
    p2 = lab.host("probe2")
    p2.run_ok("ip", "addr", "flush", "dev", "lab0")
    p2err = os.path.join(lab.dir, "probe2.err")
    w2path = os.path.join(lab.dir, "probe2.events")
    p2.spawn(pr.PROBE, "watch", "--events", "--user", "nobody",
             stdout=open(w2path, "w"), stderr=open(p2err, "w"))
    t.check(t.wait_for(lambda: "listening only" in open(p2err).read(), 5) is not None,
            "a probe with no interface says it listens only")
    t0 = time.time()
    p2.run_ok("ip", "addr", "add", f"{p2.addrs[0]}/24", "brd", "198.18.0.255",
              "dev", "lab0")

    def p2_found():
        for line in open(w2path):
            e = json.loads(line)
            if e["event"] == "join" and e["id"] == "late":
                return e
        return None
    e = t.wait_for(p2_found, 8)
    t.check(e is not None, "and finds the quiet agent once its interface is up")
    if e:
        figures["probe_interface_found_s"] = round(pr.event_time(e) - t0, 2)
        t.check(pr.event_time(e) - t0 < 3.5,
                f"within the 2 s look and an answer: {figures['probe_interface_found_s']} s")
    t.check("sending queries again" in open(p2err).read(), "and says so")

print("figures:", json.dumps(figures))
t.finish()
