# SPDX-License-Identifier: MIT
"""--expect FILE over loopback (127.255.255.255, a high port): an expected
host found by id, one by hostname (any case), one never heard; `missing`
raised once for each that is not live (the one never heard after the
start-up queries' grace), `back` when it returns, beacon_expected_hosts in
/metrics, the "expected" list in the export, SIGHUP reading the file again
(no event for a host that did not change; a bad file keeps the old list),
a bad file refused at start with its line, and `list --expect --all`
showing a host never heard as missing."""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
HTTP = f"127.0.0.1:{t.tcp_port()}"

tmp = tempfile.mkdtemp(prefix="beacon-expect-")
db, export, names = (os.path.join(tmp, f) for f in ("b.db", "t.json", "expect.txt"))
procs = []


def agent(ident, host):
    p = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", ident, "--hostname", host],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def write(text):
    with open(names + ".new", "w") as f:
        f.write(text)
    os.replace(names + ".new", names)


def events(kind):
    """(host, reason) of the events of one kind, read while serve writes."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return c.execute("SELECT host, json_extract(line, '$.reason') FROM events "
                             "WHERE event = ? ORDER BY rowid", (kind,)).fetchall()
        finally:
            c.close()
    except sqlite3.Error:
        return []


def expected_hosts(state):
    return t.metric(HTTP, f'beacon_expected_hosts{{state="{state}"}}')


def expected():
    try:
        with open(export) as f:
            return {e["name"]: (e["state"], e["id"]) for e in json.load(f).get("expected", [])}
    except (OSError, ValueError):
        return {}


try:
    write("# the lab's hosts\ne1\nE2-HOST   # by hostname, any case\n\nnever-heard\n")
    bad = os.path.join(tmp, "bad.txt")
    with open(bad, "w") as f:
        f.write("ok\nnot a name\n")
    r = subprocess.run([PROBE, "serve", *NET, "--export", export, "--expect", bad],
                       capture_output=True, text=True, timeout=10)
    t.check(r.returncode == 1 and "line 2" in r.stderr, f"a bad file refused: {r.stderr.strip()!r}")
    r = subprocess.run([PROBE, "history", "--db", db, "--expect", names], capture_output=True,
                       text=True, timeout=10)
    t.check(r.returncode == 64, f"--expect with history: usage ({r.stderr.strip()!r})")

    agent("e1", "e1-host")
    e2 = agent("e2", "e2-host")
    s = subprocess.Popen([PROBE, "serve", *NET, "--export", export, "--db", db, "--http", HTTP,
                          "--expect", names], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    procs.append(s)
    t.check(t.wait_for(lambda: expected_hosts("up") == 2 and expected_hosts("missing") == 1, 15),
            "two up, the one never heard missing after the grace")
    t.check(t.wait_for(lambda: len(events("missing")) == 1, 5) and
            events("missing")[0][0] == "never-heard" and
            "not heard since the probe started" in events("missing")[0][1],
            f"one missing event, for the host never heard: {events('missing')}")
    t.check(t.wait_for(lambda: expected().get("E2-HOST") == ("up", "e2"), 5),
            f"the hostname found its row: {expected()}")

    e2.terminate()
    e2.wait(10)
    t.check(t.wait_for(lambda: [h for h, _ in events("missing")] == ["never-heard", "e2"], 10),
            f"e2 missing once when it left: {events('missing')}")
    agent("e2", "e2-host")
    t.check(t.wait_for(lambda: [h for h, _ in events("back")] == ["e2"], 10),
            f"e2 back: {events('back')}")

    # Read again: never-heard goes, e3 comes (missing at once: the grace
    # is over); e1 and e2 raise nothing.
    write("e1\ne2-host\ne3\n")
    s.send_signal(signal.SIGHUP)
    t.check(t.wait_for(lambda: set(expected()) == {"e1", "e2-host", "e3"}, 10),
            f"SIGHUP: the new list ({expected()})")
    t.check(t.wait_for(lambda: [h for h, _ in events("missing")][-1:] == ["e3"], 10),
            f"e3 missing: {events('missing')}")
    t.check([h for h, _ in events("missing")].count("e2") == 1 and
            [h for h, _ in events("back")] == ["e2"], "no event for the hosts that stayed")
    write("e1\nnot a name\n")
    s.send_signal(signal.SIGHUP)
    t.check(t.wait_for(lambda: expected_hosts("missing") == 1 and s.poll() is None, 5) and
            set(expected()) == {"e1", "e2-host", "e3"},
            "a bad file on SIGHUP: serve goes on with the list it had")

    listed = os.path.join(tmp, "list.txt")
    with open(listed, "w") as f:
        f.write("e1\ne3\n")
    r = subprocess.run([PROBE, "list", *NET, "--expect", listed, "--all", "--wait", "1.5"],
                       capture_output=True, text=True, timeout=20)
    line = [x for x in r.stdout.splitlines() if x.startswith("e3 ")]
    t.check(line and " missing " in line[0] and " never " in line[0],
            f"list --all: e3 missing, never heard ({line})")
    s.terminate()
    _, err = s.communicate(timeout=10)
    t.check("not a name" in err or "line 2" in err, f"the bad reload said why: {err.strip()!r}")
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
