# SPDX-License-Identifier: MIT
"""The probe over minutes of churn: does it hold its memory and descriptors?

    python3 tests/soak/soak.py [--build build/release] [--minutes 10]

On loopback only (127.255.255.255, high ports; a private network namespace
when run as root): beacon-probe serve with an export, --http and --mqtt,
and around it

  * churn: 20 agents beaconing every 0.5 s, one of them stopped (goodbye)
    and started again (a new instance) every 0.2 s, and one killed
    (SIGKILL: it expires) every 5 s and started again;
  * event-stream clients: one connects to /v1/events every 0.5 s, reads
    for 2 s and goes; one in ten never reads at all;
  * an MQTT "broker" (here, in Python) that answers CONNACK and then never
    reads again, so everything the probe publishes piles up on its side.

Every 10 s it samples the probe's resident size and open descriptors. It
fails when, over the last half of the run, either grew: RSS by more than
2 MiB or 10% over its value at half time, descriptors by more than 4 (the
streams' connections come and go). Every process and socket it starts is
ended, also on failure.
"""
import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--build", default="build/release")
ap.add_argument("--minutes", type=float, default=10.0)
args = ap.parse_args()

if os.geteuid() == 0 and os.environ.get("BEACON_SOAK_NS") != "1":
    os.execvpe("unshare", ["unshare", "--net", sys.executable, *sys.argv],
               dict(os.environ, BEACON_SOAK_NS="1"))
if os.environ.get("BEACON_SOAK_NS") == "1":
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

BUILD = os.path.abspath(args.build)
PROBE = os.path.join(BUILD, "probe", "beacon-probe")
AGENT = os.path.join(BUILD, "agent", "beacon-agent")
PORT = t.free_port()
NET = ["--port", str(PORT), "--broadcast", "127.255.255.255"]
END = time.monotonic() + args.minutes * 60
stop = threading.Event()
procs, agents, figures = [], {}, {"samples": []}


def stuck_broker():
    """Accept, answer the CONNECT with a CONNACK, never read again."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(4)
    ls.settimeout(0.5)
    held = []

    def run():
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            c.settimeout(5)
            try:
                c.recv(4096)  # the CONNECT (one segment on loopback)
                c.sendall(bytes([0x20, 2, 0, 0]))
            except OSError:
                pass
            held.append(c)  # and never read from it again
        for c in held:
            c.close()
        ls.close()
    threading.Thread(target=run, daemon=True).start()
    return ls.getsockname()[1]


def agent(i):
    p = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", f"soak{i:02d}",
                          "--hostname", f"soak{i:02d}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    agents[i] = p


def churn():
    n = 0
    while not stop.wait(0.2):
        n += 1
        i = random.randrange(20)
        p = agents[i]
        if n % 25 == 0:
            p.kill()  # no goodbye: it expires
        else:
            p.terminate()
        p.wait(10)
        figures["restarts"] = figures.get("restarts", 0) + 1
        agent(i)


def streams(http_port):
    n = 0
    while not stop.wait(0.5):
        n += 1
        s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
        s.sendall(b"GET /v1/events HTTP/1.1\r\nHost: soak\r\n\r\n")
        figures["streams"] = figures.get("streams", 0) + 1
        if n % 10 == 0:
            threading.Timer(2.0, s.close).start()  # never reads
            continue
        deadline = time.monotonic() + 2
        try:
            while time.monotonic() < deadline and s.recv(65536):
                pass
        except OSError:
            pass
        s.close()


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


try:
    broker = stuck_broker()
    http_port = t.free_port()
    export = os.path.join(BUILD, f"soak-{os.getpid()}.json")
    probe = subprocess.Popen([PROBE, "serve", *NET, "--export", export,
                              "--http", f"127.0.0.1:{http_port}",
                              "--mqtt", f"mqtt://127.0.0.1:{broker}", "--site", "soak"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(probe)
    errors = []
    t.reader(probe.stderr, errors)
    for i in range(20):
        agent(i)
    if not t.wait_for(lambda: os.path.exists(export), 10):
        t.check(False, "the probe wrote no export")
        raise SystemExit
    workers = [threading.Thread(target=churn, daemon=True),
               threading.Thread(target=streams, args=(http_port,), daemon=True)]
    for w in workers:
        w.start()
    start = time.monotonic()
    while time.monotonic() < END and probe.poll() is None:
        rss, fds = sample(probe.pid)
        figures["samples"].append((round(time.monotonic() - start), rss, fds))
        print(f"{figures['samples'][-1][0]:>5} s  RSS {rss} KiB  fds {fds}", flush=True)
        stop.wait(10)
    stop.set()
    for w in workers:
        w.join(15)
    t.check(probe.poll() is None, f"the probe is still running: {probe.poll()}")
    s = figures["samples"]
    half = s[len(s) // 2]
    top_rss = max(x[1] for x in s[len(s) // 2:])
    top_fds = max(x[2] for x in s[len(s) // 2:])
    print(f"{figures.get('restarts', 0)} agent restarts, {figures.get('streams', 0)} "
          f"event streams; RSS {s[0][1]} KiB at start, {half[1]} at half time, "
          f"{top_rss} at most after, {s[-1][1]} at the end; descriptors {s[0][2]}, "
          f"{half[2]}, {top_fds}, {s[-1][2]}")
    t.check(top_rss <= max(half[1] * 1.10, half[1] + 2048),
            f"RSS flat over the second half: {half[1]} -> {top_rss} KiB")
    t.check(top_fds <= half[2] + 4, f"descriptors flat: {half[2]} -> {top_fds}")
    t.check(any("not keeping up" in line for _, line in errors),
            f"the probe says the broker is not keeping up: {errors[-3:]}")
finally:
    stop.set()
    t.stop(procs + list(agents.values()), term=True)
    try:
        os.unlink(export)
    except (OSError, NameError):
        pass
t.finish()
