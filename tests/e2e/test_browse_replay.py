# SPDX-License-Identifier: MIT
"""The reference captures' browse datagrams (Windows 98 to 10, Samba, macOS;
the IPX and NetBEUI ones put in NBT datagrams) replayed into a probe over
loopback, each machine from its own 127.0.1.x address: `list --json` shows
every announcing machine once, as kind 'browse', with the name, OS version
and comment tshark shows in its last announcement, and the workgroups of
the domain announcements. The same with a beacon-agent whose hostname is
one of the machines': one row, the agent's, with the browse announcement
attached. Skips when ../shared is absent."""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

pcap = t.shared("captures", "browse-frames.pcapng")
t.need("tshark")
import scapy_mailslot as sm  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]

# What tshark shows: each announcing machine's last announcement.
res = subprocess.run(["tshark", "-r", pcap, "-Y", "browser.command==0x01 || "
                      "browser.command==0x0f", "-T", "fields", "-E", "separator=/t",
                      "-e", "frame.number", "-e", "browser.server", "-e", "browser.os_major",
                      "-e", "browser.os_minor", "-e", "browser.comment"],
                     capture_output=True, text=True, check=True)
want = {}
for line in res.stdout.splitlines():
    frame, name, major, minor, comment = line.split("\t")
    want[name] = {"frame": int(frame), "os": f"{major}.{minor}", "comment": comment}
res = subprocess.run(["tshark", "-r", pcap, "-Y", "browser.command==0x0c", "-T", "fields",
                      "-e", "browser.server"], capture_output=True, text=True, check=True)
groups = set(res.stdout.split())
names = sorted(want)
t.check(len(names) == 15, f"15 announcing machines in the captures: {names}")
addr_of = {n: f"127.0.1.{i + 1}" for i, n in enumerate(names)}
res = subprocess.run(["tshark", "-r", pcap, "-Y", "browser", "-T", "fields",
                      "-e", "frame.number", "-e", "browser.server"],
                     capture_output=True, text=True, check=True)
frame_name = dict(l.split("\t") for l in res.stdout.splitlines())


def replay(port):
    """Every datagram, in capture order, from its machine's address (the
    NBT SOURCE_IP rewritten to match), to the probe's port."""
    sent = 0
    for frame, dgram, _ in sm.capture_datagrams(pcap):
        src = addr_of.get(frame_name.get(str(frame), ""), "127.0.1.200")
        d = bytearray(dgram)
        d[4:8] = socket.inet_aton(src)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            # To the broadcast, as the machines sent them: a unicast to a
            # port an agent shares would reach only one of the two.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            s.bind((src, 0))
            s.sendto(bytes(d), ("127.255.255.255", port))
        sent += 1
    return sent


def listing(port, *extra, before=None):
    p = subprocess.Popen([PROBE, "list", "--port", str(port), "--broadcast",
                          "127.255.255.255", "--wait", "2", "--json", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        t.check(t.wait_udp_servers(port, 1), "the probe listens")
        if before:
            before()
        sent = replay(port)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return sent, json.loads(out) if out else None, err


port = t.free_port()
sent, doc, err = listing(port, "--no-browse-request")
t.check(sent == 134 and doc is not None, f"134 datagrams replayed, a document: {err}")
rows = {h["hostname"]: h for h in doc["hosts"]} if doc else {}
t.check(sorted(rows) == names, f"every announcing machine listed once: {sorted(rows)}")
for n in names:
    h = rows.get(n)
    if h is None:
        continue
    b = h["browse"]
    t.check(h["kind"] == "browse" and h["status"] == "alive" and h["id"] == f"netbios:{n}",
            f"{n}: a live browse host")
    t.check(h["addresses"] == [addr_of[n]], f"{n}: from its address: {h['addresses']}")
    t.check(h["os_version"] == want[n]["os"] and b["os_version"] == want[n]["os"],
            f"{n}: OS version {h['os_version']} (tshark {want[n]['os']})")
    t.check(b["comment"] == want[n]["comment"],
            f"{n}: comment {b['comment']!r} (tshark {want[n]['comment']!r})")
    t.check(h["ttl_ms"] == 3 * max(b["periodicity_ms"], 60000) or h["ttl_ms"] == 3600000,
            f"{n}: lives 3 periodicities: {h['ttl_ms']} for {b['periodicity_ms']}")
t.check({g["name"] for g in doc["workgroups"]} == groups if doc else False,
        f"the workgroups of the domain announcements: {groups}")
t.check(doc["stats"]["browse"]["announcements"] >= 52 if doc else False,
        "every announcement counted")

# One of them runs beacon-agent too: one row, the agent's, with both sources.
twin = "DESKTOP-V1FA0UQ"
port = t.free_port()
agent = None


def start_agent():
    global agent
    agent = subprocess.Popen([AGENT, "--port", str(port), "--broadcast", "127.255.255.255",
                              "--interval", "1", "--id", "twin", "--hostname",
                              twin.lower() + ".lab.example"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The agent's beacons come from 127.0.0.1: the machine's browse address.
addr_of[twin] = "127.0.0.1"
try:
    sent, doc, err = listing(port, "--no-browse-request", before=start_agent)
finally:
    if agent is not None:
        agent.terminate()
        agent.wait(10)
rows = [h for h in doc["hosts"] if h["hostname"].upper().startswith(twin)] if doc else []
t.check(len(rows) == 1 and rows[0]["kind"] == "beacon" and rows[0]["id"] == "twin",
        f"the agent's host and its browse announcements are one row: {rows}")
if len(rows) == 1:
    b = rows[0]["browse"]
    t.check(b is not None and b["name"] == twin and b["address"] == "127.0.0.1",
            f"with the browse announcement attached: {b}")
t.check(len(doc["hosts"]) == len(names) if doc else False,
        f"and the other machines as before: {len(doc['hosts']) if doc else None}")
t.finish()
