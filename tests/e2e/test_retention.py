# SPDX-License-Identifier: MIT
"""serve --db --db-retention DAYS over loopback: events older than DAYS
are pruned soon after the start (counted in /metrics), and so is a host
with no event left that was not seen within DAYS; a host seen within it
keeps its row though its events went, and recent events stay."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
HTTP = f"127.0.0.1:{t.tcp_port()}"
DAY = 86400000

tmp = tempfile.mkdtemp(prefix="beacon-retention-")
db = os.path.join(tmp, "b.db")
procs = []


def serve(*extra):
    p = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "t.json"),
                          "--db", db, *extra], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    procs.append(p)
    return p


try:
    s = serve()  # makes the schema
    t.check(t.wait_for(lambda: os.path.exists(db), 10), "the database is made")
    s.terminate()
    s.communicate(timeout=10)
    now = int(time.time() * 1000)
    row = ('{"id":"%s","hostname":"%s","kind":"beacon","status":"left","reason":"said goodbye"}')
    c = sqlite3.connect(db)
    for host, seen, ages in (("ancient", now - 200 * DAY, (200, 150)),
                             ("recent", now - 1 * DAY, (100, 1))):
        c.execute("INSERT INTO hosts VALUES (?, 'beacon', ?, ?, ?, 'left', 'leave', 0, ?)",
                  (host, now - 300 * DAY, seen, host, row % (host, host)))
        for age in ages:
            c.execute("INSERT INTO events VALUES (?, ?, 'leave', '{}')", (now - age * DAY, host))
    c.commit()
    c.close()

    s = serve("--db-retention", "30", "--http", HTTP)
    t.check(t.wait_for(lambda: t.metric(HTTP, "beacon_db_events_pruned_total") == 3, 10),
            "the three events older than 30 days pruned")
    t.check(t.wait_for(lambda: t.metric(HTTP, "beacon_db_hosts_pruned_total") == 1, 5),
            "one host pruned: no event left, not seen within 30 days")
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    hosts = [h for (h,) in c.execute("SELECT id FROM hosts ORDER BY id")]
    events = c.execute("SELECT host, at FROM events").fetchall()
    c.close()
    t.check(hosts == ["recent"], f"the host seen yesterday keeps its row: {hosts}")
    t.check([h for h, _ in events] == ["recent"], f"its recent event stays: {events}")
    s.terminate()
    s.communicate(timeout=10)
    r = subprocess.run([PROBE, "list", *NET, "--db-retention", "5"], capture_output=True,
                       text=True, timeout=10)
    t.check(r.returncode == 64 and "--db-retention goes with serve --db" in r.stderr,
            f"--db-retention alone: {r.stderr.strip()!r}")
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
