# SPDX-License-Identifier: MIT
"""Samba beside us: Debian's nmbd on the probe's host and on another lab
host (bound to its lab interface only, every directory private to the
test, its packet socket included: the default /run/samba/nmbd would be
shared by both), agents and the probe on the same port 138. All keep working: every
agent is found and stays alive, nmbd's browse datagrams are counted as
another mailslot and never reach the table, nmbd still answers name
queries. Root only; skips (77) elsewhere or without nmbd."""
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


with lablib.Lab("smb") as lab:
    probe = lab.host("probe")
    smb2 = lab.host("smb2")
    plain = [lab.host(f"a{i}") for i in (1, 2)]
    daemons = [nmbd(probe), nmbd(smb2)]
    # A plain listener for nmbd's browse traffic: proof that it flows.
    browse_out = os.path.join(lab.dir, "browse.json")
    plain[1].spawn(pr.MAILSLOT, "listen", "--port", "138", "--json", "--timeout", "120",
                   "\\\\.\\mailslot\\BROWSE", stdout=open(browse_out, "w"))
    for h in (probe, smb2, *plain):
        pr.agent(h, "--id", h.name, interval="2")
    serve, watch = pr.Serve(probe), pr.Watch(probe)
    ids = {"probe", "smb2", "a1", "a2"}
    t.check(serve.wait(lambda hs: set(hs) == ids, 10) is not None,
            f"every agent found, nmbd hosts included: {sorted(serve.hosts())}")

    def browse_seen():
        try:
            with open(browse_out) as f:
                return [json.loads(l) for l in f if l.strip()]
        except (OSError, ValueError):
            return None
    seen = t.wait_for(browse_seen, 60, 0.1)
    t.check(bool(seen), "nmbd's browse datagrams flow on the segment")
    if seen:
        t.check(all(m["mailslot"] == "\\MAILSLOT\\BROWSE" and m["src_port"] == 138 for m in seen),
                f"and decode as Samba's mailslot writes: {seen[0]['src_name']} -> {seen[0]['dst_name']}")
    time.sleep(2 * 2)  # two more agent intervals with nmbd talking: the condition under test
    doc = serve.doc()
    rows = {h["id"]: h for h in doc["hosts"]}
    t.check(set(rows) == ids, f"nmbd's traffic never reaches the table: {sorted(rows)}")
    t.check(all(h["status"] == "alive" for h in rows.values()), "every agent alive")
    t.check(doc["stats"]["dropped"]["other_mailslot"] >= len(seen or []),
            f"browse datagrams counted as another mailslot: {doc['stats']['dropped']['other_mailslot']}")
    t.check(watch.count("stale") == 0 and watch.count("expire") == 0, "no stale, no expiry")
    for (d, conf), h in zip(daemons, (probe, smb2)):
        if not t.check(d.poll() is None, f"nmbd on {h.name} still running"):
            with open(os.path.join(os.path.dirname(conf), "out"), errors="replace") as f:
                print("".join(f.readlines()[-20:]))
    # nmbd still answers NetBIOS name queries on its host.
    r = subprocess.run(["ip", "netns", "exec", plain[0].ns, "nmblookup", "-U",
                        probe.addrs[0], "PROBE"], capture_output=True, text=True, timeout=30)
    t.check(f"{probe.addrs[0]} PROBE<00>" in r.stdout, f"nmbd answers: {r.stdout.strip()}")
t.finish()
