# SPDX-License-Identifier: MIT
"""serve --db (the history) over loopback (127.255.255.255, a high port):
each event is written with its host's row, read here while serve writes
(WAL); `new` comes once per host id, before its first join, and not again
after a restart of the probe on the same database; the refusals at start
(a symbolic link, a directory, a FIFO, a device, a file that is not
SQLite, a database another serve writes, a newer schema) name the cause,
exit 1 and leave the file as it was."""
import datetime
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
HTTP = f"127.0.0.1:{t.tcp_port()}"

tmp = tempfile.mkdtemp(prefix="beacon-db-")
db = os.path.join(tmp, "beacon.db")
procs = []


def agent(ident):
    p = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", ident,
                          "--hostname", ident], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def serve(path, *extra):
    p = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "t.json"),
                          "--db", path, *extra], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    return p


def events():
    """(host, event) in order, read-only while serve writes."""
    try:
        c = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return c.execute("SELECT host, event FROM events ORDER BY rowid").fetchall()
        finally:
            c.close()
    except sqlite3.Error:
        return None


def ms(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000


def export():
    try:
        with open(os.path.join(tmp, "t.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"hosts": []}


def has(ev):
    return lambda: (events() or []).count(ev) > 0


def stop(p):
    p.terminate()
    _, err = p.communicate(timeout=10)
    return err


try:
    a1, a2 = agent("a1"), agent("a2")
    s = serve(db)
    t.check(t.wait_for(lambda: has(("a1", "join"))() and has(("a2", "join"))(), 10),
            "both joins written, read while serve writes")
    ev = events()
    for h in ("a1", "a2"):
        t.check(ev.count((h, "new")) == 1 and ev.index((h, "new")) < ev.index((h, "join")),
                f"{h}: one new, before its join")
    a2.terminate()
    a2.wait(10)
    t.check(t.wait_for(has(("a2", "leave")), 10), "a2's leave written")
    before = {h["id"]: h for h in export()["hosts"]}
    mark = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    stop(s)
    os.unlink(os.path.join(tmp, "t.json"))

    # The same database again: the table restored (a1 live at the stop,
    # a2 left), a1 known, a3 not.
    s = serve(db, "--http", HTTP)
    agent("a3")
    t.check(t.wait_for(lambda: has(("a3", "join"))() and has(("a1", "update"))(), 10),
            "after the restart: a1 heard again, a3 joins")
    ev = events()
    t.check(ev.count(("a1", "new")) == 1, f"a1 is not new again ({ev.count(('a1', 'new'))})")
    t.check(ev.count(("a1", "join")) == 1, "a1 does not join again: it was restored")
    t.check(ev.count(("a3", "new")) == 1, "a3 is new")
    r = subprocess.run([PROBE, "history", "a1", "--db", db, "--event", "update", "--json"],
                       capture_output=True, text=True, timeout=10)
    t.check("first beacon since the probe started" in r.stdout,
            f"a1's update says why: {r.stdout.strip()!r}")
    t.check(t.wait_for(lambda: {h["id"]: h["status"] for h in export()["hosts"]}
                       .get("a1") == "alive", 10), "a1 alive in the export")
    after = {h["id"]: h for h in export()["hosts"]}
    t.check(after.get("a2", {}).get("status") == "left" and
            after["a2"]["reason"] == "said goodbye",
            f"a2 restored as it was: {after.get('a2', {}).get('status')}")
    for h in ("a1", "a2"):
        # Kept, to within the skew of the renderer's two clock reads
        # (the wall clock at writing, the monotonic one of the loop's pass).
        skew = abs(ms(after[h]["first_seen"]) - ms(before[h]["first_seen"]))
        t.check(skew <= 100, f"{h}: first seen kept ({before[h]['first_seen']} -> "
                f"{after[h]['first_seen']})")

    # diff --db: since the mark (a1 alive, a2 left), only a3 is new.
    r = subprocess.run([PROBE, "diff", "--db", db, "--since", mark, "--json"],
                       capture_output=True, text=True, timeout=10)
    d = json.loads(r.stdout) if r.returncode == 0 else {}
    t.check([h["id"] for h in d.get("new", [])] == ["a3"] and d.get("gone") == [] and
            d.get("back") == [] and d.get("changed") == [],
            f"diff --db --since the mark: a3 new, nothing else ({r.stdout.strip()!r})")

    # GET /v1/history: newest first, paged with the cursor; the same
    # events as history --json.
    def page(query):
        try:
            with urllib.request.urlopen(f"http://{HTTP}/v1/history?{query}", timeout=5) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, {}
    got, cursor = [], ""
    for _ in range(50):
        code, d = page("host=a1&limit=2" + (f"&cursor={cursor}" if cursor else ""))
        got += [(e["event"], e["time"]) for e in d.get("events", [])]
        cursor = d.get("next")
        if code != 200 or not cursor:
            break
    r = subprocess.run([PROBE, "history", "a1", "--db", db, "--json"], capture_output=True,
                       text=True, timeout=10)
    want = [(e["event"], e["time"]) for e in map(json.loads, r.stdout.splitlines())]
    t.check(code == 200 and got == want[::-1] and len(got) >= 3,
            f"/v1/history?host=a1, two a page: {len(got)} events, newest first, as history")
    code, d = page("event=new&event=leave")
    t.check(code == 200 and sorted(e["id"] for e in d["events"] if e["event"] == "new")
            == ["a1", "a2", "a3"], "?event= twice: new and leave")
    t.check(page("limit=0")[0] == 400 and page("since=yesterday")[0] == 400 and
            page("cursor=1.2x")[0] == 400 and page("colour=red")[0] == 400,
            "bad parameters: 400")

    # beacon-probe history, read-only while serve writes.
    def history(*args):
        return subprocess.run([PROBE, "history", *args, "--db", db], capture_output=True,
                              text=True, timeout=10)
    r = history("a1", "--json")
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    t.check(r.returncode == 0 and [e["event"] for e in lines][:2] == ["new", "join"] and
            all(e["id"] == "a1" and e["time"] for e in lines),
            f"history a1 --json: its events, oldest first ({[e['event'] for e in lines]})")
    r = history("A2", "--event", "leave", "--event", "expire")
    t.check(r.returncode == 0 and len(r.stdout.splitlines()) == 1 and
            "leave" in r.stdout and "said goodbye" in r.stdout,
            f"history by hostname (any case), one event kind: {r.stdout!r}")
    r = history("--since", "1h", "--until", "2000-01-01T00:00:00Z")
    t.check(r.returncode == 2 and r.stdout == "", "nothing in an empty window: exit 2")
    r = history("a1", "a2")
    t.check(r.returncode == 64 and "unexpected argument: a2" in r.stderr,
            f"one HOST: {r.stderr.strip()!r}")

    # a2 left before the restart: back now, a join, and the file (not the
    # table's memory) says it is not new.
    agent("a2")
    t.check(t.wait_for(lambda: events().count(("a2", "join")) >= 2, 10), "a2 joins again")
    t.check(events().count(("a2", "new")) == 1, "a2 is not new again")

    # A second serve on the same file is refused while the first runs.
    other = subprocess.run([PROBE, "serve", "--port", str(t.free_port()), "--broadcast",
                            "127.255.255.255", "--export", os.path.join(tmp, "t2.json"),
                            "--db", db], capture_output=True, text=True, timeout=10)
    t.check(other.returncode == 1 and "another beacon-probe serve writes it" in other.stderr,
            f"a second writer refused: {other.stderr.strip()!r}")
    stop(s)
    c = sqlite3.connect(db)
    rows = dict(c.execute("SELECT id, status FROM hosts").fetchall())
    t.check(rows.get("a2") == "alive" and rows.get("a1") == "alive" and "a3" in rows,
            f"hosts' last status kept: {rows}")
    t.check(c.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check ok")
    c.execute("PRAGMA user_version = 99")
    c.commit()
    c.close()

    # A version 1 file (as the first release made it) is migrated forward
    # in place, its history kept.
    v1 = os.path.join(tmp, "v1.db")
    c = sqlite3.connect(v1)
    c.executescript(
        "CREATE TABLE hosts (id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, first_seen "
        "INTEGER NOT NULL, last_seen INTEGER NOT NULL, hostname TEXT NOT NULL, status TEXT "
        "NOT NULL, reason TEXT NOT NULL, restarts INTEGER NOT NULL, row TEXT NOT NULL) "
        "WITHOUT ROWID; CREATE TABLE events (at INTEGER NOT NULL, host TEXT NOT NULL, event "
        "TEXT NOT NULL, line TEXT NOT NULL); CREATE INDEX events_at ON events (at); "
        "CREATE INDEX events_host ON events (host, at); "
        "INSERT INTO events VALUES (1, 'old', 'new', '{}'); PRAGMA user_version = 1;")
    c.close()
    m = serve(v1)
    t.check(t.wait_for(lambda: sqlite3.connect(v1).execute("PRAGMA user_version")
                       .fetchone()[0] == 2, 10), "a version 1 file migrated to 2")
    stop(m)
    c = sqlite3.connect(v1)
    t.check(c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'hosts_last_seen'")
            .fetchone()[0] == 1 and
            c.execute("SELECT host FROM events").fetchall()[:1] == [("old",)],
            "its index made, its events kept")
    c.close()

    # Refusals: the cause named, exit 1, the file as it was.
    text = os.path.join(tmp, "notes.txt")
    with open(text, "w") as f:
        f.write("not a database\n")
    link = os.path.join(tmp, "link.db")
    os.symlink(db, link)
    fifo = os.path.join(tmp, "fifo.db")
    os.mkfifo(fifo)
    cases = [(link, "symbolic link"), (tmp, "directory"), (fifo, "FIFO"),
             ("/dev/null", "device"), (text, "not an SQLite database"),
             (db, "newer than this beacon-probe's")]
    for path, why in cases:
        before = hashlib.sha256(open(path, "rb").read()).hexdigest() \
            if os.path.isfile(path) and not os.path.islink(path) else None
        r = subprocess.run([PROBE, "serve", *NET, "--export", os.path.join(tmp, "t3.json"),
                            "--db", path], capture_output=True, text=True, timeout=10)
        t.check(r.returncode == 1 and why in r.stderr, f"{why}: refused ({r.stderr.strip()!r})")
        if before:
            t.check(hashlib.sha256(open(path, "rb").read()).hexdigest() == before,
                    f"{why}: the file untouched")
    t.check(os.path.islink(link) and os.path.exists(db), "the link and its target left be")
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
