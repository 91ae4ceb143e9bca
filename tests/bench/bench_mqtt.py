# SPDX-License-Identifier: MIT
"""serve --mqtt with many hosts: what the broker carries and what it costs.

    python3 tests/bench/bench_mqtt.py [--build build/release] [--hosts N]
                                      [--smoke] [--json FILE]

In a private network namespace (root: unshare -n), over its loopback:
Debian's mosquitto (no persistence), beacon-probe serve --mqtt with the
default --mqtt-refresh (30 s), and bench_send playing N hosts (default
20,000) that beacon every 10 s as agents (their announced interval). After
the table is full and the first publication is over, for one steady
minute: the messages the broker took (rows, events, the probe's own), per
host per hour; the broker's CPU (% of one core) and resident size; the
probe's CPU. --smoke runs the same steps with 300 hosts and a 1 s refresh
in seconds and asserts nothing about time (CTest's bench.mqtt_smoke).
Every load is bounded in count and time; only 127.0.0.1 is a target.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--build", default="build/release")
ap.add_argument("--hosts", type=int, default=20000)
ap.add_argument("--smoke", action="store_true")
ap.add_argument("--json")
args = ap.parse_args()
BUILD = os.path.abspath(args.build)
PROBE = os.path.join(BUILD, "probe", "beacon-probe")
SEND = os.path.join(BUILD, "tests", "bench_send")
OUT = args.json or os.path.join(BUILD, "bench-mqtt.json")

if os.environ.get("BEACON_BENCH_NS") != "1":
    for prog in (PROBE, SEND):
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench_mqtt: {prog} is missing: build first")
    for tool in ("mosquitto", "mosquitto_sub", "unshare"):
        if shutil.which(tool) is None:
            print(f"bench_mqtt: needs {tool}")
            sys.exit(SKIP)
    if os.geteuid() != 0:
        print("bench_mqtt: needs root for a private network namespace")
        sys.exit(SKIP)
    env = dict(os.environ, BEACON_BENCH_NS="1")
    os.execvpe("unshare", ["unshare", "--net", sys.executable, *sys.argv], env)

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
HOSTS = 300 if args.smoke else args.hosts
INTERVAL = 10                      # the bench beacons' announced interval
REFRESH = 1 if args.smoke else 30  # --mqtt-refresh
WINDOW = 3 if args.smoke else 60   # the steady window, s
TMP = tempfile.mkdtemp(prefix="beacon-bench-mqtt-")
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
BROKER, UDP = 18830, 47800
procs = []


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def send(rounds, rate, first):
    """Every host's beacon ROUNDS times at RATE a second (bench_send stops
    at 60 s)."""
    r = subprocess.run([SEND, str(UDP), str(HOSTS), str(rounds), str(rate), "0", str(first)],
                       capture_output=True, text=True, timeout=120, check=True)
    return r.stdout.strip()


class Counter:
    """mosquitto_sub on beacon/v1/#: messages by kind, with a time each."""

    def __init__(self):
        self.seen = []
        self.p = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(BROKER),
                                   "-t", "beacon/v1/#", "-F", "%t", "-q", "1"],
                                  stdout=subprocess.PIPE, text=True)
        procs.append(self.p)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            self.seen.append((time.monotonic(), line.strip().split("/")[3]))

    def count(self, t0, t1):
        out = {}
        for when, kind in list(self.seen):
            if t0 <= when < t1:
                out[kind] = out.get(kind, 0) + 1
        return out


try:
    conf = os.path.join(TMP, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {BROKER} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "max_queued_messages 100000\n")
    os.chmod(TMP, 0o755)
    broker = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=open(os.path.join(TMP, "broker.log"), "w"))
    procs.append(broker)
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", BROKER)) != 0:
        if time.monotonic() > deadline:
            sys.exit("bench_mqtt: the broker did not start")
        time.sleep(0.05)
    counter = Counter()
    probe = subprocess.Popen([PROBE, "serve", "--port", str(UDP), "--broadcast",
                              "127.255.255.255", "--no-solicit", "--export",
                              os.path.join(TMP, "hosts.json"), "--max-hosts", str(HOSTS + 1000),
                              "--new-hosts-per-source", "1000000", "--max-per-source", "10000000",
                              "--mqtt", f"mqtt://127.0.0.1:{BROKER}", "--site", "bench",
                              "--mqtt-refresh", str(REFRESH)],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, "probe.err"),
                                                                    "w"))
    procs.append(probe)
    time.sleep(1)
    # Fill: every host joins (one row each), then beacons every INTERVAL s.
    t_fill = time.monotonic()
    print("fill:", send(1, 20000, 0))
    rate = HOSTS if args.smoke else max(1, HOSTS // INTERVAL)  # a round: 1 s or INTERVAL
    first = 1
    # Warm up for one refresh (the first refresh publishes every row).
    warm_until = time.monotonic() + REFRESH + 2
    while time.monotonic() < warm_until:
        send(1, rate, first)
        first += 1
    joined = counter.count(t_fill, time.monotonic()).get("hosts", 0)
    # The steady window.
    t0 = time.monotonic()
    b0, p0 = cpu_s(broker.pid), cpu_s(probe.pid)
    while time.monotonic() < t0 + WINDOW:
        send(1, rate, first)
        first += 1
    t1 = time.monotonic()
    b1, p1 = cpu_s(broker.pid), cpu_s(probe.pid)
    time.sleep(0.5)  # what was published in the window, delivered
    got = counter.count(t0, t1)
    span = t1 - t0
    results = {
        "smoke": args.smoke, "hosts": HOSTS, "interval_s": INTERVAL, "refresh_s": REFRESH,
        "window_s": round(span, 1), "row_messages_fill_and_first_refresh": joined, "messages": got,
        "row_messages_per_host_per_hour": round(got.get("hosts", 0) / HOSTS * 3600 / span, 1),
        "all_messages_per_host_per_hour": round(sum(got.values()) / HOSTS * 3600 / span, 1),
        "broker_cpu_percent": round(100 * (b1 - b0) / span, 2),
        "broker_rss_mb": round(rss(broker.pid) / 2**20, 1),
        "probe_cpu_percent": round(100 * (p1 - p0) / span, 2),
        "probe_rss_mb": round(rss(probe.pid) / 2**20, 1),
    }
    for k, v in results.items():
        print(f"{k:34} {v}")
    with open(OUT, "w") as f:
        json.dump(results, f, indent=1)
    ok = joined >= HOSTS and got.get("hosts", 0) > 0 and got.get("probe", 0) > 0
    if not ok:
        print(f"FAIL: every row published at the fill ({joined} of {HOSTS}) and rows and "
              f"heartbeats in the window ({got})")
    sys.exit(0 if ok else 1)
finally:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(TMP, ignore_errors=True)
