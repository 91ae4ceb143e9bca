# SPDX-License-Identifier: MIT
"""Samba beside us, and in the table: Debian's nmbd on the probe's host, on
a host that also runs an agent (smb2) and on a host with no agent (nas),
each bound to its lab interface only, every directory private to the test,
its packet socket included (the default /run/samba/nmbd would be shared by
all and does not exist on a fresh install). Agents and the probe on the
same port 138. Everyone keeps working: every agent is found and stays
alive, nmbd still answers name queries. The nmbd hosts are listed as
browse hosts with their NetBIOS name and server string; probe and smb2,
whose agents have the same names and addresses, are one row each; a fresh `list` asks nas to
announce, and nas is listed from its answer, within the list's wait.
Root only; skips (77) elsewhere or without nmbd."""
import base64
import json
import os
import shutil
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
for tool in ("nmbd", "nmblookup"):
    if shutil.which(tool) is None:
        print(f"FAIL: {tool} is not installed (Debian's samba; see the README)")
        sys.exit(1)


def nmbd(host):
    d = os.path.join(host.lab.dir, f"samba-{host.name}")
    os.makedirs(os.path.join(d, "private"))
    conf = os.path.join(d, "smb.conf")
    with open(conf, "w") as f:
        f.write(f"""[global]
workgroup = WORKGROUP
netbios name = {host.name.upper()}
server string = beacon lab {host.name}
interfaces = {host.addrs[0]}/24
bind interfaces only = yes
lock directory = {d}
state directory = {d}
cache directory = {d}
pid directory = {d}
private dir = {d}/private
ncalrpc dir = {d}/ncalrpc
nmbd:socket dir = {d}/nmbd
log file = {d}/log.%m
local master = yes
""")
    return host.spawn("nmbd", "--foreground", "--no-process-group", "--debug-stdout",
                      f"--configfile={conf}", stdout=open(os.path.join(d, "out"), "w"),
                      stderr=subprocess.STDOUT), conf


def browse_seen(path):
    """What the plain listener has seen on \\MAILSLOT\\BROWSE: (time,
    source, opcode, announced name)."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                m = json.loads(line)
                data = base64.b64decode(m["base64"])
                name = data[6:22].split(b"\0")[0].decode("ascii", "replace")
                out.append((m["received_ms"] / 1000, m["src_ip"], data[0], name))
    except (OSError, ValueError):
        pass
    return out


with lablib.Lab("smb") as lab:
    probe = lab.host("probe")
    smb2 = lab.host("smb2")
    nas = lab.host("nas")
    plain = [lab.host(f"a{i}") for i in (1, 2)]
    daemons = {h.name: nmbd(h) for h in (probe, smb2, nas)}
    # A plain listener for nmbd's browse traffic: proof that it flows, and
    # when (its times are CLOCK_MONOTONIC, as time.monotonic()).
    browse_out = os.path.join(lab.dir, "browse.json")
    plain[1].spawn(pr.MAILSLOT, "listen", "--port", "138", "--json", "--timeout", "180",
                   "\\\\.\\mailslot\\BROWSE", stdout=open(browse_out, "w"))
    for h in (probe, *plain):
        pr.agent(h, "--id", h.name, interval="2")
    pr.agent(smb2, "--id", "smb2", "--hostname", "smb2", interval="2")
    serve, watch = pr.Serve(probe), pr.Watch(probe)
    ids = {"probe", "smb2", "a1", "a2"}
    t.check(serve.wait(lambda hs: ids <= set(hs), 10) is not None,
            f"every agent found, nmbd hosts included: {sorted(serve.hosts())}")

    t_serve = time.monotonic()
    seen = t.wait_for(lambda: {n for _, _, op, n in browse_seen(browse_out)
                               if op in (1, 15)} >= {"PROBE", "SMB2", "NAS"} or None, 60, 0.1)
    t.check(bool(seen), f"all three nmbd announce: {browse_seen(browse_out)[-5:]}")
    # The election takes nmbd about 25 s; then the master browser sends
    # the workgroup's domain announcement.
    t.check(t.wait_for(lambda: any(op == 12 for _, _, op, _ in browse_seen(browse_out)),
                       60, 0.1), "a master browser announces the workgroup")
    t.check(serve.exported(2), "two exports since")
    # The probe's request reaches nas and smb2, which answer at once. The
    # nmbd on the probe's own host takes a datagram from its own address
    # and port 138 for its own and ignores it: PROBE is known from its
    # next periodic announcement, if there was one since the probe started.
    # Lab hosts have their own hostnames: the agents on probe and smb2 are
    # the same machines as the nmbd there, so one row each.
    probe_told = any(n == "PROBE" and op in (1, 15) and when >= t_serve
                     for when, _, op, n in browse_seen(browse_out))
    browse_ids = {"netbios:NAS"}
    doc = serve.doc()
    rows = {h["id"]: h for h in doc["hosts"]}
    t.check(set(rows) == ids | browse_ids, f"nas is a browse row, probe and smb2 are one "
            f"row each: {sorted(rows)}")
    if "probe" in rows:
        b = rows["probe"]["browse"]
        t.check((b is not None and b["name"] == "PROBE") == probe_told,
                f"probe: nmbd's announcements attached once it announced ({probe_told}): {b}")
    t.check(all(rows[i]["status"] == "alive" for i in ids if i in rows), "every agent alive")
    for i in browse_ids & set(rows):
        h, name = rows[i], i.split(":")[1]  # nas
        t.check(h["kind"] == "browse" and h["hostname"] == name and h["status"] == "alive",
                f"{name}: a live browse host")
        t.check(h["browse"]["comment"] == f"beacon lab {name.lower()}",
                f"{name}: its server string: {h['browse']['comment']!r}")
        t.check(h["browse"]["workgroup"] == "WORKGROUP" and h["os_version"] != "",
                f"{name}: workgroup and OS version: {h['browse']['workgroup']} {h['os_version']}")
        t.check(h["addresses"] == [nas.addrs[0]],
                f"{name}: from its address: {h['addresses']}")
    if "smb2" in rows:
        b = rows["smb2"]["browse"]
        t.check(rows["smb2"]["kind"] == "beacon" and b is not None and b["name"] == "SMB2"
                and b["comment"] == "beacon lab smb2",
                f"smb2: the agent's row, with nmbd's announcements: {b}")
    t.check(any(g["name"] == "WORKGROUP" and g["master_browser"] in ("PROBE", "SMB2", "NAS")
                for g in doc["workgroups"]),
            f"the workgroup from the master browser: {doc['workgroups']}")
    t.check(doc["stats"]["browse"]["announcements"] >= 2,
            f"browse announcements counted: {doc['stats']['browse']}")
    t.check(watch.count("stale") == 0 and watch.count("expire") == 0, "no stale, no expiry")
    j = watch.find("join", "netbios:NAS")
    t.check(j is not None and j.get("kind") == "browse",
            f"watch --events: nas joined, as a browse host: {j}")

    # A fresh list asks: nas answers the request at once, not at its next
    # periodic announcement (a minute or more away).
    def nas_said():
        return [x for x in browse_seen(browse_out) if x[3] == "NAS" and x[2] in (1, 15)]
    # After a quiet while (the election's announcements over), so that an
    # announcement right after the request is the answer to it.
    t.wait_for(lambda: time.monotonic() - nas_said()[-1][0] >= 3, 20, 0.1)
    before = nas_said()
    t0 = time.monotonic()
    r = subprocess.run(["ip", "netns", "exec", plain[0].ns, pr.PROBE, "list", "--json",
                        "--wait", "3", "--no-solicit"],
                       capture_output=True, text=True, timeout=30)
    t.check(r.returncode == 0, f"list: exit {r.returncode} {r.stderr}")
    listed = {h["id"]: h for h in json.loads(r.stdout)["hosts"]} if r.stdout else {}
    t.check("netbios:NAS" in listed, f"list shows nas as a browse host: {sorted(listed)}")
    after = [x for x in browse_seen(browse_out) if x[3] == "NAS" and x[2] in (1, 15)
             and x[0] >= t0]
    if after:
        took = after[0][0] - t0
        print(f"nas announced {took:.3f} s after list started "
              f"(its previous announcement {t0 - before[-1][0]:.1f} s before)")
        t.check(took < 1.0, f"nas answered the request within 1 s: {took:.3f} s")
    else:
        t.check(False, "nas announced after the request")
    t.check(json.loads(r.stdout)["stats"]["browse"]["requests_sent"] == 1 if r.stdout else False,
            "one request sent")

    for name, (d, conf) in daemons.items():
        if not t.check(d.poll() is None, f"nmbd on {name} still running"):
            with open(os.path.join(os.path.dirname(conf), "out"), errors="replace") as f:
                print("".join(f.readlines()[-20:]))
    # nmbd still answers NetBIOS name queries on its host.
    r = subprocess.run(["ip", "netns", "exec", plain[0].ns, "nmblookup", "-U",
                        probe.addrs[0], "PROBE"], capture_output=True, text=True, timeout=30)
    t.check(f"{probe.addrs[0]} PROBE<00>" in r.stdout, f"nmbd answers: {r.stdout.strip()}")
t.finish()
