# SPDX-License-Identifier: MIT
"""Running beacon-probe and beacon-agent in lab hosts, and reading what
the probes say (events and exports), for the lab tests."""
import datetime
import json
import os
import pwd
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
MAILSLOT = os.environ["MAILSLOT"]
PY = "/usr/bin/python3"


def agent(host, *extra, interval="30"):
    """beacon-agent on HOST, on the real port 138, every interface."""
    return host.spawn(AGENT, "--interval", interval, *extra,
                      stderr=open(os.path.join(host.lab.dir, f"{host.name}.agent.err"), "a"))


class Watch:
    """beacon-probe watch --events on HOST, its NDJSON in a file."""

    def __init__(self, host, *extra):
        self.path = os.path.join(host.lab.dir, f"{host.name}.events")
        self.proc = host.spawn(PROBE, "watch", "--events", *extra,
                               stdout=open(self.path, "w"))

    def events(self):
        try:
            with open(self.path) as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass  # a line still being written
        return out

    def find(self, event, ident):
        for e in self.events():
            if e["event"] == event and e["id"] == ident:
                return e
        return None

    def wait(self, event, ident, timeout):
        return t.wait_for(lambda: self.find(event, ident), timeout, 0.01)

    def count(self, event):
        return sum(1 for e in self.events() if e["event"] == event)


class Serve:
    """beacon-probe serve on HOST, exporting to a file every 0.1 s; with
    USER, run as that user (--user), exporting into a folder it owns."""

    def __init__(self, host, *extra, user=None):
        out = host.lab.dir
        if user is not None:
            pw = pwd.getpwnam(user)
            out = os.path.join(host.lab.dir, f"{host.name}-{user}")
            os.mkdir(out, 0o700)
            os.chown(out, pw.pw_uid, pw.pw_gid)
            extra = (*extra, "--user", user)
        self.path = os.path.join(out, f"{host.name}.hosts.json")
        self.proc = host.spawn(PROBE, "serve", "--all", "--export", self.path,
                               "--export-interval", "0.1", *extra,
                               stderr=open(self.path + ".err", "w"))

    def doc(self):
        try:
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def exported(self, n=2, timeout=5):
        """Wait until N more exports have been written (each renames a new
        file over the path: a new inode); whether they were."""
        def ino():
            try:
                return os.stat(self.path).st_ino
            except OSError:
                return None
        seen = [ino()]

        def more():
            i = ino()
            if i is not None and i != seen[-1]:
                seen.append(i)
            return len(seen) > n
        return t.wait_for(more, timeout, 0.005)

    def hosts(self):
        d = self.doc()
        return {h["id"]: h for h in d["hosts"]} if d else {}

    def wait(self, cond, timeout):
        """The hosts (by id) once COND(hosts) holds, or None."""
        def check():
            hs = self.hosts()
            return hs if cond(hs) else None
        return t.wait_for(check, timeout, 0.01)


def rfc3339(s):
    """An RFC 3339 UTC time of the probe's, as seconds since the epoch."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ") \
        .replace(tzinfo=datetime.timezone.utc).timestamp()


def event_time(e):
    """An event's own time stamp, as seconds since the epoch."""
    return rfc3339(e["time"])


def probe_list(host, *args, timeout=60):
    r = subprocess.run(["ip", "netns", "exec", host.ns, PROBE, "list", *args],
                       capture_output=True, text=True, timeout=timeout)
    return r


def send_raw(host, datagrams, src_port=0, dest="198.18.0.255", burst=50,
             pause=0.01):
    """Send DATAGRAMS from HOST to DEST:138, paced in bursts (a bounded
    load: the count is the list's, the time about len/burst x pause)."""
    blob = b"".join(len(d).to_bytes(2, "big") + d for d in datagrams)
    code = f'''
import socket, sys, time
data = sys.stdin.buffer.read()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("{host.addrs[0]}", {src_port}))
i = n = 0
while i < len(data):
    size = int.from_bytes(data[i:i + 2], "big")
    s.sendto(data[i + 2:i + 2 + size], ("{dest}", 138))
    i += 2 + size
    n += 1
    if n % {burst} == 0:
        time.sleep({pause})
print(n)
'''
    r = subprocess.run(["ip", "netns", "exec", host.ns, PY, "-c", code],
                       input=blob, capture_output=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.decode())
    return int(r.stdout)


def udp_rcvbuf_errors(host):
    """RcvbufErrors of the UDP MIB in HOST's namespace."""
    r = subprocess.run(["ip", "netns", "exec", host.ns, "cat", "/proc/net/snmp"],
                       capture_output=True, text=True, check=True)
    rows = [l.split() for l in r.stdout.splitlines() if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])
