# SPDX-License-Identifier: MIT
"""beacon-agent and beacon-probe end to end over loopback (127.255.255.255,
a high port): discovery by solicitation with the agents long past their fast
start, filters, goodbye seen as left, SIGKILL seen as stale then expired,
restart, duplicate copies, the size budget, hostname conflicts, escaping,
and the figures the closing note asks for. Every wait polls a deadline."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
PORT = str(t.free_port())
NET = ["--port", PORT, "--broadcast", "127.255.255.255"]
procs = []
agents = {}
figures = {}


def agent(ident, *extra, interval="30"):
    p = subprocess.Popen([AGENT, *NET, "--interval", interval, "--id", ident,
                          "--hostname", ident, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(p)
    agents[ident] = p
    return p


def probe_list(*args):
    r = subprocess.run([PROBE, "list", *NET, *args], capture_output=True,
                       text=True, timeout=60)
    return r


class Events:
    """`beacon-probe watch --events`, read as it writes."""

    def __init__(self):
        # The probe appends to its own open file, and the test reads through
        # another: one shared file (and offset) let the test's seek(0) send
        # the probe's next line over the first ones.
        fd, self.path = tempfile.mkstemp(prefix="beacon-events-")
        os.close(fd)
        with open(self.path, "a") as out:
            self.proc = subprocess.Popen([PROBE, "watch", "--events", *NET],
                                         stdout=out, stderr=subprocess.PIPE)
        procs.append(self.proc)

    def all(self):
        with open(self.path) as f:
            text = f.read()
        text = text[:text.rfind("\n") + 1]  # not a line still being written
        return [json.loads(l) for l in text.splitlines() if l]

    def wait(self, event, ident, timeout):
        """Poll until EVENT for IDENT arrives; its arrival time, or None."""
        def seen():
            return any(e["event"] == event and e["id"] == ident
                       for e in self.all())
        return time.monotonic() if t.wait_for(seen, timeout, 0.005) else None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


EXPORT = os.path.join(tempfile.mkdtemp(prefix="beacon-test-"), "hosts.json")


def exported():
    """The serving probe's table: it has seen everything from the start."""
    try:
        with open(EXPORT) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def host_in_export(ident, cond):
    def ok():
        doc = exported()
        rows = [h for h in (doc or {"hosts": []})["hosts"] if h["id"] == ident]
        return rows if rows and cond(rows) else None
    return t.wait_for(ok, 10)


ev = None
try:
    ev = Events()
    t.check(t.wait_udp_servers(PORT, 1), "the watching probe is bound")
    serve = subprocess.Popen([PROBE, "serve", *NET, "--all", "--export", EXPORT,
                              "--export-interval", "0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(serve)
    t.check(t.wait_for(exported, 10) is not None, "serve writes its export at once")
    servers = t.udp_servers(PORT)

    # Time from an agent's start to its first appearance.
    t0 = time.monotonic()
    agent("fresh", "--tag", "role=web")
    seen_at = ev.wait("join", "fresh", 5)
    t.check(seen_at is not None, "a new agent joins")
    if seen_at:
        figures["start_to_seen_ms"] = round((seen_at - t0) * 1000)

    # Three agents, staggered, then past their fast start (3 beacons in
    # about 3 s; the next one is 27-33 s away).
    for i, role in enumerate(("db", "web", "db")):
        agent(f"host-{i}", "--tag", f"role={role}")
        time.sleep(0.15)  # stagger starts (lab-notes): not a wait for a result
    t.check(all(ev.wait("join", f"host-{i}", 5) for i in range(3)), "all three join")
    time.sleep(4)  # let the fast start end: this is the condition under test

    r = probe_list("--no-solicit", "--wait", "1")
    t.check(r.returncode == 2 and r.stdout == "",
            f"without solicitation a 1 s listen hears nobody: {r.returncode} {r.stdout!r}")
    t1 = time.monotonic()
    r = probe_list("--wait", "1", "--json")
    t.check(r.returncode == 0, f"list exit {r.returncode}: {r.stderr}")
    doc = json.loads(r.stdout)
    ids = sorted(h["id"] for h in doc["hosts"])
    t.check(ids == ["fresh", "host-0", "host-1", "host-2"], f"solicited list: {ids}")
    t.check(all(h["status"] == "alive" and "127.0.0.1" in h["addresses"]
                for h in doc["hosts"]), "all alive, source address recorded")
    figures["list_wait_s"] = round(time.monotonic() - t1, 2)

    r = probe_list("--wait", "1.5", "--tag", "role=db")
    names = [l.split()[0] for l in r.stdout.splitlines()]
    t.check(r.returncode == 0 and names == ["host-0", "host-2"],
            f"--tag role=db, sorted: {names}")
    r = probe_list("--wait", "1.5", "--status", "stale")
    t.check(r.returncode == 2, f"--status stale matches none: exit {r.returncode}")

    # SIGTERM: left, at once.
    victim = agents["host-0"]
    t0 = time.monotonic()
    victim.send_signal(signal.SIGTERM)
    left_at = ev.wait("leave", "host-0", 5)
    t.check(victim.wait(5) == 0, "the agent exits 0 on SIGTERM")
    t.check(left_at is not None, "goodbye seen as leave")
    if left_at:
        figures["sigterm_to_left_ms"] = round((left_at - t0) * 1000, 1)
        t.check(left_at - t0 < 0.5, f"left within 0.5 s: {left_at - t0:.3f}")

    # SIGKILL: stale, then expired (a 0.3 s interval, TTL 0.9 s).
    quick = agent("quick", interval="0.3")
    t.check(ev.wait("join", "quick", 5) is not None, "quick joins")
    t.check(host_in_export("quick", lambda r: r[0]["beacons_received"] >= 10) is not None,
            "quick has a history of 10 beacons")
    figures["agent_rss_kib"] = rss_kib(quick.pid)
    t0 = time.monotonic()
    quick.kill()
    quick.wait()
    stale_at = ev.wait("stale", "quick", 15)
    expired_at = ev.wait("expire", "quick", 15)
    t.check(stale_at is not None and expired_at is not None and stale_at <= expired_at,
            "SIGKILL: stale, then expired")
    if expired_at:
        figures["sigkill_to_stale_ms"] = round((stale_at - t0) * 1000)
        figures["sigkill_to_expired_ms"] = round((expired_at - t0) * 1000)
        t.check(expired_at - t0 < 10 * 0.9, "expired within 10 x TTL")
    rows = host_in_export("quick", lambda r: r[0]["status"] == "expired")
    t.check(rows and "unanswered" in rows[0]["reason"],
            f"expired host kept in the table with its reason: {rows}")
    expire_ev = [e for e in ev.all() if e["event"] == "expire" and e["id"] == "quick"]
    t.check(expire_ev and "unanswered" in expire_ev[0]["reason"], "the expire event says why")

    # Restart: same id, new instance; one row.
    again = agents["host-1"]
    again.kill()
    again.wait()
    agent("host-1", "--tag", "role=web")
    t.check(ev.wait("restart", "host-1", 5) is not None, "a restart is seen as a restart")
    rows = host_in_export("host-1", lambda r: r[0]["restarts"] >= 1)
    t.check(rows is not None and len(rows) == 1, "one row for the restarted host")

    # Duplicate copies (two destinations) collapse; a large beacon fits.
    tags = [f"--tag=t{i:02d}={'x' * 60}" for i in range(16)]
    agent("dup", "--broadcast", "127.255.255.255", *tags)
    t.check(ev.wait("join", "dup", 5) is not None, "dup joins")
    r = probe_list("--wait", "1.5", "--json")
    doc = json.loads(r.stdout)
    rows = [h for h in doc["hosts"] if h["id"] == "dup"]
    t.check(len(rows) == 1, "two copies of each beacon make one row")
    t.check(doc["stats"]["duplicates"] >= 1, f"duplicates counted: {doc['stats']['duplicates']}")
    t.check(rows and 0 < len(rows[0]["tags"]) < 16, "tags dropped to fit the budget")

    # Conflict: two ids claim one hostname; both kept, both flagged.
    agent("twin-a", "--hostname", "twin")
    agent("twin-b", "--hostname", "TWIN")
    t.check(ev.wait("conflict", "twin-b", 5) is not None, "conflict event")
    r = probe_list("--wait", "1.5", "--status", "conflict", "--json")
    doc = json.loads(r.stdout)
    t.check(sorted(h["id"] for h in doc["hosts"]) == ["twin-a", "twin-b"],
            "both claimants listed as conflict")

    # Hostile input: control characters are refused and counted; what is
    # shown is escaped.
    bad = json.dumps({"v": 1, "id": "evil", "inst": "i", "seq": 1, "state": "up",
                      "host": "evil", "int_ms": 30000, "ttl_ms": 90000,
                      "tags": {"x": "\x1b[2J"}})
    odd = json.dumps({"v": 1, "id": "odd", "inst": "i", "seq": 1, "state": "up",
                      "host": "odd", "int_ms": 30000, "ttl_ms": 90000,
                      "tags": {"bidi": "a\u202eb\u2066c", "path": "C:\\temp",
                               "name": "caf\u00e9", "note": "x,role=db"}},
                     ensure_ascii=False)
    listers = [subprocess.Popen([PROBE, "list", *NET, "--no-solicit", "--wait", "2",
                                 *mode], stdout=subprocess.PIPE, text=True)
               for mode in (["--json"], ["--header"])]
    procs.extend(listers)
    t.check(t.wait_udp_servers(PORT, t.udp_servers(PORT) + 2),
            "both listing probes are bound before anything is sent")
    for msg in (bad, odd):
        subprocess.run([t.MAILSLOT, "send", *NET, "\\\\*\\mailslot\\beacon"],
                       input=msg.encode(), check=True, timeout=10)
    doc = json.loads(listers[0].communicate(timeout=30)[0])
    ids = [h["id"] for h in doc["hosts"]]
    t.check("odd" in ids and "evil" not in ids, f"the hostile beacon is dropped: {ids}")
    t.check(doc["stats"]["dropped"]["beacon_string"] == 1, "and counted as beacon_string")
    text = listers[1].communicate(timeout=30)[0]
    line = [l for l in text.splitlines() if l.startswith("odd ")]
    t.check(line and "C:\\\\temp" in line[0] and "caf\u00e9" in line[0],
            f"text table escapes backslashes, keeps UTF-8: {line}")
    t.check("\x1b" not in text, "no escape character reaches the terminal")
    t.check(line and 'note="x,role=db"' in line[0],
            f"a comma or = in a tag value cannot pass for another tag: {line}")
    t.check(line and "a\\u{202e}b\\u{2066}c" in line[0] and "\u202e" not in text,
            f"bidi controls are escaped in the table: {line}")
    odd_json = [h for h in doc["hosts"] if h["id"] == "odd"]
    t.check(odd_json and odd_json[0]["tags"]["bidi"] == "a\u202eb\u2066c",
            "JSON keeps the data as it came")

    # The largest beacon with default settings.
    r = subprocess.run([AGENT, "--print"], capture_output=True, text=True, timeout=10)
    figures["default_beacon_bytes"] = len(r.stdout.strip().encode())
finally:
    t.stop(procs)
    if ev is not None:
        os.unlink(ev.path)

print("FIGURES: " + json.dumps(figures))
t.finish()
