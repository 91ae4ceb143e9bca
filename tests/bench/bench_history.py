# SPDX-License-Identifier: MIT
"""The history (serve --db) at this machine's limits, in one run.

    python3 tests/bench/bench_history.py [--build build/release] [--smoke]
                                         [--json FILE]

In a private network namespace (root: unshare -n), over its loopback, every
host sending from its own address (127.1.0.1 + i, as bench.py), the probe's
defences at their defaults. Each figure is taken with --db and without, on
the same load:

  * burst: 20,000 new hosts' first beacons at 20,000 a second (40,000
    events: new and join), then 200,000 beacons a second over them for
    3 s: the loop's longest pass (beacon_loop_longest_pass_seconds), and
    CPU ns per beacon of the probe in each phase;
  * restore: a probe started on a database of 20,000 and of 100,000 hosts
    (written by a probe that heard them, then stopped): the time the
    restore takes (its log line) and from exec to an HTTP answer with
    every host in /v1/hosts?status=stale;
  * size: database bytes per host and per event (SQLite's dbstat: the
    hosts table and its index, the events table and its two).

--smoke runs the same steps with small numbers and asserts nothing about
time (CTest's bench.history_smoke). Every load is bounded in count and
time; only 127.0.0.0/8 is a target.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--build", default="build/release")
ap.add_argument("--smoke", action="store_true")
ap.add_argument("--json")
args = ap.parse_args()
BUILD = os.path.abspath(args.build)
PROBE = os.path.join(BUILD, "probe", "beacon-probe")
SEND = os.path.join(BUILD, "tests", "bench_send")
OUT = args.json or os.path.join(BUILD, "bench-history.json")

if os.environ.get("BEACON_BENCH_NS") != "1":
    for prog in (PROBE, SEND):
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench: {prog} is missing: build first")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("bench: needs root and unshare for a private network namespace")
        sys.exit(SKIP)
    os.execvpe("unshare", ["unshare", "--net", sys.executable, *sys.argv],
               dict(os.environ, BEACON_BENCH_NS="1"))

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
TMP = tempfile.mkdtemp(prefix="beacon-bench-history-")
NCPU = os.cpu_count() or 1
RX_CPU, TX_CPU = ("1", "0") if NCPU >= 2 else ("0", "0")
HZ = os.sysconf("SC_CLK_TCK")
if args.smoke:
    BURST, RATE, SECONDS, RESTORE = 500, 20000, 0.3, [500, 1000]
else:
    BURST, RATE, SECONDS, RESTORE = 20000, 200000, 3.0, [20000, 100000]
FILL_RATE = 20000
port_n = [48400]
procs = []


def next_port():
    port_n[0] += 1
    return port_n[0]


def cpu_ns(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1e9 / HZ


def send(port, hosts, rounds, rate, first=0):
    r = subprocess.run(["taskset", "-c", TX_CPU, SEND, str(port), str(hosts), str(rounds),
                        str(rate), "0", str(first), "own"],
                       capture_output=True, text=True, timeout=120, check=True)
    return int(re.match(r"sent (\d+)", r.stdout).group(1))


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def metric(http, name):
    m = re.search(rf"^{re.escape(name)} ([\d.e+-]+)$", get(f"http://{http}/metrics", 60),
                  re.M)
    return float(m.group(1))


def wait_for(cond, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if cond():
                return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


def settle(pid, limit=60):
    """Until the probe has caught up: its CPU time stops growing."""
    deadline, last = time.monotonic() + limit, cpu_ns(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = cpu_ns(pid)
        if now - last < 2e7:
            return
        last = now


class Probe:
    def __init__(self, hosts, db=None):
        self.port, self.http = next_port(), f"127.0.0.1:{next_port()}"
        cmd = ["taskset", "-c", RX_CPU, PROBE, "serve", "--port", str(self.port),
               "--broadcast", "127.255.255.255", "--no-solicit", "--http", self.http,
               "--export", os.path.join(TMP, f"e{self.port}.json"),
               "--export-interval", "86400", "--max-hosts", str(max(hosts + 1000, 65536))]
        if db:
            cmd += ["--db", db]
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        procs.append(self.p)
        if not wait_for(lambda: get(f"http://{self.http}/healthz", 1) != "", 60):
            raise RuntimeError("the probe did not answer")
        self.up = time.monotonic() - self.t0

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        _, err = self.p.communicate(timeout=300)
        return err


def burst(db):
    pr = Probe(BURST, db)
    c0 = cpu_ns(pr.p.pid)
    send(pr.port, BURST, 1, FILL_RATE)
    settle(pr.p.pid)
    c1 = cpu_ns(pr.p.pid)
    longest_burst = metric(pr.http, "beacon_loop_longest_pass_seconds")
    rounds = max(1, int(RATE * SECONDS / BURST))
    sent = send(pr.port, BURST, rounds, RATE, 1)
    settle(pr.p.pid)
    c2 = cpu_ns(pr.p.pid)
    r = {"burst_hosts": BURST,
         "burst_ns_per_beacon": round((c1 - c0) / BURST),
         "longest_pass_burst_ms": round(longest_burst * 1000, 1),
         "steady_rate": RATE, "steady_sent": sent,
         "steady_beacons": int(metric(pr.http, "beacon_beacons_total")) - BURST,
         "steady_ns_per_beacon": round((c2 - c1) / sent),
         "longest_pass_ms": round(metric(pr.http, "beacon_loop_longest_pass_seconds") * 1000, 1)}
    if db:
        r["db_events_written"] = int(metric(pr.http, "beacon_db_events_written_total"))
        r["db_errors"] = int(metric(pr.http, "beacon_db_errors_total"))
    pr.stop()
    return r


def sizes(db):
    c = sqlite3.connect(db)
    try:
        by = dict(c.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
        hosts = c.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
        events = c.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        c.close()
    h = sum(v for k, v in by.items() if k == "hosts" or k.startswith("sqlite_autoindex_hosts"))
    e = sum(v for k, v in by.items() if k.startswith("events"))
    return {"hosts": hosts, "events": events, "bytes_per_host": round(h / max(hosts, 1)),
            "bytes_per_event": round(e / max(events, 1)),
            "file_bytes": os.path.getsize(db)}


def restore(hosts):
    db = os.path.join(TMP, f"restore-{hosts}.db")
    pr = Probe(hosts, db)
    send(pr.port, hosts, 1, FILL_RATE)
    settle(pr.p.pid)
    pr.stop()
    pr = Probe(hosts, db)
    stale = metric(pr.http, 'beacon_hosts{status="stale"}')
    err = pr.stop()
    m = re.search(r"(\d+) restored .* in (\d+) ms", err)
    return {"hosts": hosts, "restored": int(m.group(1)) if m else None,
            "restore_ms": int(m.group(2)) if m else None,
            "serving_s": round(pr.up, 3), "stale_after_restore": int(stale)}


try:
    results = {"smoke": args.smoke, "cpus": NCPU}
    results["burst_without_db"] = burst(None)
    db = os.path.join(TMP, "burst.db")
    results["burst_with_db"] = burst(db)
    results["size"] = sizes(db)
    results["restore"] = [restore(n) for n in RESTORE]
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)

with open(OUT, "w") as f:
    json.dump(results, f, indent=1)
w, d = results["burst_without_db"], results["burst_with_db"]
print(f"{'':34} {'without --db':>14} {'with --db':>12}")
for k in ("burst_ns_per_beacon", "longest_pass_burst_ms", "steady_ns_per_beacon",
          "longest_pass_ms"):
    print(f"{k:34} {w[k]:>14} {d[k]:>12}")
s = results["size"]
print(f"database: {s['hosts']} hosts, {s['events']} events: {s['bytes_per_host']} B/host, "
      f"{s['bytes_per_event']} B/event ({s['file_bytes']} B in all)")
for r in results["restore"]:
    print(f"restore {r['hosts']} hosts: {r['restore_ms']} ms; serving (/healthz) "
          f"{r['serving_s']} s after exec; {r['stale_after_restore']} not yet heard")
print(f"(written to {OUT})")
