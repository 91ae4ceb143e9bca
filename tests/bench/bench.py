# SPDX-License-Identifier: MIT
"""The probe and the agent at this machine's limits, in one run.

    python3 tests/bench/bench.py [--build build/release] [--smoke] [--json FILE]
                                 [--part NAME ...]

Everything runs in a private network namespace (root: unshare -n), over its
loopback, sender and receiver pinned to different cores, with beacons of a
default agent's size made by the real encoders (tests/bench/beacons.c).
As on a LAN, every host sends from its own address (127.1.0.1 + i, set per
datagram with IP_PKTINFO: loopback holds all of 127/8) and the probe keeps
its defences at their defaults (only --max-hosts is raised for the largest
tables). The second figure, every host from one address, needs the
per-source defences lifted, and says so. It measures:

  * receive: CPU ns per beacon of a bare recvmmsg receiver and of
    beacon-probe's real receive path (its own binary), and their ratio,
    with 1,000, 20,000 and 100,000 hosts in the table; and the same from
    one address (defences lifted) at 1,000 and 20,000 hosts;
  * loss: at paced rates (100k, 200k, 400k beacons/s), from the probe's own
    counters and the kernel's RcvbufErrors;
  * list: how soon 100,000 new hosts are in a fresh probe's table (watch
    --events: the last join after the last host's first beacon), and a
    fresh `list` of 20,000 hosts answering within 0.5 s;
  * table: resident bytes per host (per-source state included), the time
    to write a periodic export (timed with inotify, from the temporary
    file's creation to its rename) and SIGTERM to exit (whose export is
    also fsync'ed), at 20,000 and 100,000 hosts;
  * million: a table of 1,000,000 hosts (one address each): resident
    bytes, and CPU ns per beacon against a 1,000-host probe's, measured
    in alternate windows (the median of the pairs' ratios);
  * callgrind: user-space instructions per beacon on the steady-state path
    (callgrind over bench_ingest, which takes each datagram through the
    probe's own per-datagram function, each host from its own address);
  * agent: the agent's resident size, its wake-ups per beacon, and its heap
    allocations (malloc, calloc, realloc, counted by uprobes) in the
    steady state;
  * auth: the cost of a signature: sign and verify one beacon
    (bench_verify).

It prints a table and writes JSON. --smoke runs the same steps with small
numbers in seconds and asserts nothing about time (CTest's bench.smoke).
Every load is bounded in count and time; only 127.0.0.0/8 is a target.
"""
import argparse
import ctypes
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

SKIP = 77


PARTS = ["receive", "loss", "list", "table", "million", "callgrind", "agent", "auth"]


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build/release",
                    help="the build directory (default build/release)")
    ap.add_argument("--smoke", action="store_true",
                    help="small and quick: checks that every step runs")
    ap.add_argument("--json", help="write the results here "
                    "(default BUILD/bench-results.json)")
    ap.add_argument("--part", action="append", choices=PARTS,
                    help="run only this part (repeatable; default all)")
    return ap.parse_args()


args = parse_args()
BUILD = os.path.abspath(args.build)
PROBE = os.path.join(BUILD, "probe", "beacon-probe")
AGENT = os.path.join(BUILD, "agent", "beacon-agent")
SEND = os.path.join(BUILD, "tests", "bench_send")
RECV = os.path.join(BUILD, "tests", "bench_recv")
INGEST = os.path.join(BUILD, "tests", "bench_ingest")
VERIFY = os.path.join(BUILD, "tests", "bench_verify")
OUT = args.json or os.path.join(BUILD, "bench-results.json")

if os.environ.get("BEACON_BENCH_NS") != "1":
    for prog in (PROBE, AGENT, SEND, RECV, INGEST, VERIFY):
        if not os.access(prog, os.X_OK):
            sys.exit(f"bench: {prog} is missing: build first "
                     f"(cmake --preset release && cmake --build --preset release)")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("bench: needs root and unshare for a private network namespace")
        sys.exit(SKIP)
    env = dict(os.environ, BEACON_BENCH_NS="1")
    os.execvpe("unshare", ["unshare", "--net", sys.executable, *sys.argv], env)

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
TMP = tempfile.mkdtemp(prefix="beacon-bench-")
NCPU = os.cpu_count() or 1
RX_CPU, TX_CPU = ("1", "0") if NCPU >= 2 else ("0", "0")
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
port_n = [47900]
procs = []
results = {"smoke": args.smoke, "cpus": NCPU}

if args.smoke:
    HOSTS, RATE, SECONDS, RATES, LIST_HOSTS = [200, 1000], 20000, 0.3, [20000], 500
    ONE_HOSTS, NEW_HOSTS, TABLE_HOSTS, MILLION = [200], 2000, [200, 1000], 5000
else:
    HOSTS, RATE, SECONDS, RATES, LIST_HOSTS = [1000, 20000, 100000], 200000, 3.0, \
        [100000, 200000, 400000], 20000
    ONE_HOSTS, NEW_HOSTS, TABLE_HOSTS, MILLION = [1000, 20000], 100000, [20000, 100000], \
        1000000
PARTS_RUN = set(args.part or PARTS)
# New hosts arrive at this rate when a table is filled (a LAN's hosts
# answering a probe's query over a few seconds).
FILL_RATE = 20000
# Every host from its own address ("own"), or all from 127.0.0.1 ("one").
SOURCES = "own"


def next_port():
    port_n[0] += 1
    return port_n[0]


def pinned(cpu, *cmd, **kw):
    p = subprocess.Popen(["taskset", "-c", cpu, *cmd], **kw)
    procs.append(p)
    return p


def send(port, hosts, rounds, rate, first=0):
    r = subprocess.run(["taskset", "-c", TX_CPU, SEND, str(port), str(hosts),
                        str(rounds), str(rate), "0", str(first), SOURCES],
                       capture_output=True, text=True, timeout=120, check=True)
    m = re.match(r"sent (\d+) in ([\d.]+) s", r.stdout)
    return int(m.group(1)), float(m.group(2))


def bound(port, timeout=10):
    """Wait until something is bound to UDP port in this namespace."""
    want = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/net/udp") as f:
            if any(want in line.split("\n")[0] for line in f.readlines()[1:]):
                return True
        time.sleep(0.01)
    raise RuntimeError(f"nothing bound to {port}")


def cpu_ns(pid, user_only=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + (0 if user_only else int(fields[12]))) * 1e9 / HZ


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        rows = [l.split() for l in f if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def settle(pid, limit=60):
    """Wait until the process has caught up: its CPU time stops growing."""
    deadline = time.monotonic() + limit
    last = cpu_ns(pid)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = cpu_ns(pid)
        if now - last < 2e7:  # under 10% of the 0.2 s: idle
            return
        last = now


def rounds_for(hosts, rate, seconds):
    return max(1, int(rate * seconds / hosts))


# ---- 1. Bare receiver vs the probe's receive path ----

def bare(hosts, rate):
    port = next_port()
    rounds = rounds_for(hosts, rate, SECONDS)
    r = pinned(RX_CPU, RECV, str(port), str(hosts * rounds), "0.5",
               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bound(port)
    sent, _ = send(port, hosts, rounds, rate)
    out, _ = r.communicate(timeout=70)
    m = re.match(r"received (\d+) cpu_ns (\d+)", out)
    got, ns = int(m.group(1)), int(m.group(2))
    return {"sent": sent, "received": got, "ns_per_beacon": ns / max(got, 1)}


def lifted():
    """From one address the per-source defences would refuse all but a
    few hosts: lifted then (and the figures say so)."""
    return ["--new-hosts-per-source", "1000000", "--max-per-source",
            "10000000"] if SOURCES == "one" else []


class Probe:
    """beacon-probe serve with room for hosts, exporting only at exit
    unless given an export interval. Its defences at their defaults, but
    from one address (SOURCES "one"), where they would refuse all but a
    few hosts: then lifted."""

    def __init__(self, hosts, export_interval="86400", cmd="serve"):
        self.port = next_port()
        self.export = os.path.join(TMP, f"probe-{self.port}.json")
        out = ["--export", self.export, "--export-interval", export_interval] \
            if cmd == "serve" else ["--events"]
        self.p = pinned(RX_CPU, PROBE, cmd, "--port", str(self.port),
                        "--broadcast", "127.255.255.255", "--no-solicit", *out,
                        "--max-hosts", str(max(hosts + 1000, 65536)), *lifted(),
                        stdout=subprocess.DEVNULL if cmd == "serve" else subprocess.PIPE,
                        stderr=subprocess.PIPE)
        bound(self.port)

    def stop(self, parse=True):
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(120)
        took = time.monotonic() - t0
        if not parse:
            return took, None
        with open(self.export) as f:
            doc = json.load(f)
        return took, doc


def export_rows(path):
    """How many hosts an export holds, without parsing it whole (a
    million hosts' document is most of a gigabyte)."""
    n, tail = 0, b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                return n
            buf = tail + chunk
            n += buf.count(b'"kind":"beacon"')
            tail = buf[-20:]
            n -= tail.count(b'"kind":"beacon"')


IN_CREATE, IN_MOVED_TO = 0x100, 0x80


def export_times(pr, hosts, want):
    """The probe's periodic exports, timed from outside with inotify: from
    the temporary file's creation to its rename over the export. Beacons
    keep flowing (slowly) so that every interval has news to write."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, TMP.encode(), IN_CREATE | IN_MOVED_TO) < 0:
        raise OSError(ctypes.get_errno(), "inotify")
    base = os.path.basename(pr.export)
    rounds = max(1, int(2000 * 20 / hosts))  # about 2,000 beacons/s for 20 s
    sender = subprocess.Popen(["taskset", "-c", TX_CPU, SEND, str(pr.port), str(hosts),
                               str(rounds), "2000", "0", "1"], stdout=subprocess.DEVNULL)
    started, took = {}, []
    deadline = time.monotonic() + 30
    try:
        while len(took) < want and time.monotonic() < deadline:
            if not select.select([fd], [], [], 1.0)[0]:
                continue
            now = time.monotonic()
            buf = os.read(fd, 65536)
            off = 0
            while off < len(buf):
                _, mask, _, n = struct.unpack_from("iIII", buf, off)
                name = buf[off + 16:off + 16 + n].rstrip(b"\0").decode()
                off += 16 + n
                if mask & IN_CREATE and name.startswith(f".{base}."):
                    started[name] = now
                elif mask & IN_MOVED_TO and name == base and started:
                    took.append(now - started.pop(max(started, key=started.get)))
    finally:
        os.close(fd)
        sender.kill()
        sender.wait()
    return took


TRACING = "/sys/kernel/tracing"


def file_offset(binary, vaddr):
    """The file offset of a virtual address (a uprobe wants offsets): the
    PT_LOAD segment that holds it, from the ELF64 program headers."""
    with open(binary, "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        typ, _, off, va, _, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if typ == 1 and va <= vaddr < va + filesz:
            return vaddr - va + off
    raise ValueError(f"{vaddr:#x} is in no segment of {binary}")


class AllocCounter:
    """Calls to malloc, calloc and realloc in one binary, counted by uprobes
    (tracefs: no perf needed; a static binary is fine since the probe is
    on its own copy of the functions). None where tracefs or nm is not
    there."""

    def __init__(self, binary):
        self.group = f"beacon_bench_{os.getpid()}"
        self.binary = os.path.realpath(binary)
        self.names = []
        if not os.access(os.path.join(TRACING, "uprobe_events"), os.W_OK) or \
                shutil.which("nm") is None:
            return
        syms = {}
        for line in subprocess.run(["nm", self.binary], capture_output=True,
                                   text=True).stdout.splitlines():
            parts = line.split()
            if len(parts) == 3:
                syms.setdefault(parts[2], int(parts[0], 16))
        for name in ("malloc", "calloc", "realloc"):
            if name in syms:
                self._events(f"p:{self.group}/{name} {self.binary}:"
                             f"{file_offset(self.binary, syms[name]):#x}")
                self.names.append(name)
        if not self.names:  # a dynamic binary (the sanitizers' builds)
            return
        with open(os.path.join(TRACING, "events", self.group, "enable"), "w") as f:
            f.write("1")

    def count(self):
        if not self.names:
            return None
        with open(os.path.join(TRACING, "uprobe_profile")) as f:
            return sum(int(l.split()[-1]) for l in f
                       if l.split()[0] == self.binary and l.split()[1] in self.names)

    def close(self):
        if not self.names:
            return
        with open(os.path.join(TRACING, "events", self.group, "enable"), "w") as f:
            f.write("0")
        for name in self.names:
            self._events(f"-:{self.group}/{name}")
        self.names = []

    @staticmethod
    def _events(line):
        # os.open: Python's "a" mode seeks to the end, which tracefs refuses.
        fd = os.open(os.path.join(TRACING, "uprobe_events"), os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def probe_path(hosts, rate, windows=1):
    """Fill a fresh probe with hosts, then WINDOWS steady windows at rate:
    the median CPU ns per beacon read, and the totals."""
    pr = Probe(hosts)
    rss0 = status(pr.p.pid, "VmRSS")
    send(pr.port, hosts, 1, FILL_RATE)  # fill the table
    settle(pr.p.pid)
    rss1 = status(pr.p.pid, "VmRSS")
    rounds = rounds_for(hosts, rate, SECONDS)
    per, user, sent_all, read_all, e_all, secs_all = [], [], 0, 0, 0, 0.0
    for w in range(windows):
        c0, e0, u0 = cpu_ns(pr.p.pid), rcvbuf_errors(), cpu_ns(pr.p.pid, True)
        sent, secs = send(pr.port, hosts, rounds, rate, first=1 + w * rounds)
        settle(pr.p.pid)
        c1, e1, u1 = cpu_ns(pr.p.pid), rcvbuf_errors(), cpu_ns(pr.p.pid, True)
        steady = sent - (e1 - e0)  # what reached the probe's socket
        per.append((c1 - c0) / max(steady, 1))
        user.append((u1 - u0) / max(steady, 1))
        sent_all += sent
        read_all += steady
        e_all += e1 - e0
        secs_all += secs
    took, doc = pr.stop()
    st = doc["stats"]
    return {"hosts": hosts, "sent": sent_all, "rate": round(sent_all / secs_all),
            "beacons": read_all, "listed": len(doc["hosts"]),
            "taken": st["beacons"],
            "lost_probe": st["dropped"]["receive_buffer"] + st["dropped"]["queue_full"],
            "rcvbuf_errors": e_all,
            "ns_per_beacon": median(per), "ns_per_window": [round(x) for x in per],
            "user_ns_per_beacon": median(user),
            "rss_bytes_per_host": (rss1 - rss0) * 1024 / hosts,
            "export_exit_s": round(took, 3)}


def new_hosts(hosts):
    """A fresh watch --events with nobody in it; hosts new hosts at 100k/s:
    when the last join is printed after the last host's first beacon."""
    pr = Probe(hosts, cmd="watch")
    joins, last_join = [0], [None]

    def read():
        for line in pr.p.stdout:
            if line.startswith(b'{"event":"join"'):
                joins[0] += 1
                if joins[0] == hosts:
                    last_join[0] = time.monotonic()
    import threading
    t = threading.Thread(target=read, daemon=True)
    t.start()
    t0 = time.monotonic()
    send(pr.port, hosts, 1, 100000)
    sent_end = time.monotonic()
    deadline = sent_end + 30
    while last_join[0] is None and time.monotonic() < deadline:
        time.sleep(0.01)
    pr.stop(parse=False)
    t.join(5)
    return {"hosts": hosts, "joined": joins[0], "sending_s": round(sent_end - t0, 3),
            "last_join_after_last_beacon_s":
                None if last_join[0] is None else round(last_join[0] - sent_end, 3)}


def fresh_list(hosts):
    """A fresh list, hosts answering within 0.5 s."""
    port = next_port()
    lst = pinned(RX_CPU, PROBE, "list", "--port", str(port), "--broadcast",
                 "127.255.255.255", "--no-solicit", "--wait", "2.5", "--json",
                 "--max-hosts", str(max(hosts + 1000, 65536)), *lifted(),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    bound(port)
    t0 = time.monotonic()
    send(port, hosts, 1, hosts / 0.5)
    last = time.monotonic()
    out, _ = lst.communicate(timeout=60)
    done = time.monotonic()
    return {"hosts": hosts, "listed": len(json.loads(out)["hosts"]),
            "answers_s": round(last - t0, 3),
            "printed_after_last_answer_s": round(done - last, 3)}


def table_size(hosts):
    """Resident bytes per host and the export's times at a table size."""
    pr = Probe(hosts, export_interval="1")
    rss0 = status(pr.p.pid, "VmRSS")
    send(pr.port, hosts, 1, FILL_RATE)
    settle(pr.p.pid)
    rss1 = status(pr.p.pid, "VmRSS")
    periodic = export_times(pr, hosts, 2 if args.smoke else 5)
    took, doc = pr.stop()
    return {"hosts": hosts, "listed": len(doc["hosts"]),
            "rss_bytes_per_host": round((rss1 - rss0) * 1024 / max(len(doc["hosts"]), 1)),
            "export_bytes": os.path.getsize(pr.export),
            "export_s": round(median(periodic), 3) if periodic else None,
            "export_runs_s": [round(x, 3) for x in periodic],
            "sigterm_to_exit_s": round(took, 3)}


def window(pr, hosts, rounds, first):
    """One steady window of a running probe: CPU ns per beacon that reached
    its socket (all, user space) and the beacons lost at it."""
    c0, e0, u0 = cpu_ns(pr.p.pid), rcvbuf_errors(), cpu_ns(pr.p.pid, True)
    sent, _ = send(pr.port, hosts, rounds, RATE, first=first)
    settle(pr.p.pid, limit=120)
    c1, e1, u1 = cpu_ns(pr.p.pid), rcvbuf_errors(), cpu_ns(pr.p.pid, True)
    got = max(sent - (e1 - e0), 1)
    return (c1 - c0) / got, (u1 - u0) / got, e1 - e0


def ratio(a, b):
    return a / b if b > 0 else None  # (a smoke run's window can read 0)


def million(hosts):
    """A table of a million hosts, one address each: resident size, and
    CPU per beacon in the steady state against a 1,000-host probe's, in
    alternate windows (this VM's speed drifts by tens of per cent over
    minutes, so each ratio is of neighbours, and the median is taken)."""
    pr = Probe(hosts)
    rss0 = status(pr.p.pid, "VmRSS")
    # At 100k new hosts a second: every host is in within its interval
    # (10 s), as a LAN of a million answering a fresh probe.
    t0, e0 = time.monotonic(), rcvbuf_errors()
    send(pr.port, hosts, 1, 100000)
    settle(pr.p.pid, limit=120)
    fill_s, fill_lost = time.monotonic() - t0, rcvbuf_errors() - e0
    rss1 = status(pr.p.pid, "VmRSS")
    # One round to settle: the hosts heard first have been silent for the
    # fill's length (over their interval), and come back in it.
    send(pr.port, hosts, 1, RATE, first=1)
    settle(pr.p.pid, limit=120)
    small_hosts = 200 if args.smoke else 1000
    sm = Probe(small_hosts)
    send(sm.port, small_hosts, 1, FILL_RATE)
    settle(sm.p.pid)
    # The small window is half the usual length, so that a million hosts'
    # round comes again within their interval's slack (11.1 s).
    small_rounds = rounds_for(small_hosts, RATE, SECONDS / 2)
    per, user, per1k, user1k, lost = [], [], [], [], 0
    for w in range(1 if args.smoke else 5):
        ns, uns, e = window(pr, hosts, 1, 2 + w)
        per.append(ns)
        user.append(uns)
        lost += e
        ns, uns, _ = window(sm, small_hosts, small_rounds, 1 + w * small_rounds)
        per1k.append(ns)
        user1k.append(uns)
    sm.stop(parse=False)
    took, _ = pr.stop(parse=False)
    listed = export_rows(pr.export)
    b = bare(hosts, RATE)  # the kernel's side, at this many sources
    pairs = [ratio(x, y) for x, y in zip(per, per1k)]
    upairs = [ratio(x, y) for x, y in zip(user, user1k)]
    return {"hosts": hosts, "listed": listed, "fill_s": round(fill_s, 1),
            "fill_lost": fill_lost, "steady_lost": lost,
            "rss_bytes": (rss1 - rss0) * 1024, "rss_total_bytes": rss1 * 1024,
            "rss_bytes_per_host": round((rss1 - rss0) * 1024 / max(listed, 1)),
            "ns_per_beacon": median(per), "ns_per_window": [round(x) for x in per],
            "bare_ns_per_beacon": round(b["ns_per_beacon"]),
            "ns_per_beacon_1k": median(per1k),
            "ns_per_window_1k": [round(x) for x in per1k],
            "ratio_per_window": [None if r is None else round(r, 2) for r in pairs],
            "ratio_to_1k": None if None in pairs else median(pairs),
            "user_ns_per_beacon": median(user),
            "user_ns_per_beacon_1k": median(user1k),
            "user_ratio_to_1k": None if None in upairs else median(upairs),
            "sigterm_to_exit_s": round(took, 3)}


def receive_rows(hosts_list):
    rows = []
    for hosts in hosts_list:
        # The bare receiver three times, the probe over three windows:
        # medians, so one disturbed second does not make the figure.
        bs = [bare(hosts, RATE) for _ in range(1 if args.smoke else 3)]
        b = dict(bs[0], ns_per_beacon=median([x["ns_per_beacon"] for x in bs]),
                 ns_per_run=[round(x["ns_per_beacon"]) for x in bs])
        p = probe_path(hosts, RATE, windows=1 if args.smoke else 3)
        rows.append({"hosts": hosts, "rate": RATE, "sources": SOURCES,
                     "defences": "lifted" if SOURCES == "one" else "default",
                     "bare": b, "probe": p,
                     "ratio": p["ns_per_beacon"] / max(b["ns_per_beacon"], 1e-9)})
    return rows


def callgrind():
    vg = shutil.which("valgrind")
    asan = b"__asan_init" in open(INGEST, "rb").read()
    if not vg or asan:
        return {"skipped": "no valgrind" if not vg else "ASan build"}
    out = {}
    for hosts in ([200] if args.smoke else [1000, 20000]):
        rounds = 2 if args.smoke else 5
        cg = os.path.join(TMP, f"callgrind-{hosts}.out")
        subprocess.run([vg, "--tool=callgrind", "--toggle-collect=steady_round",
                        f"--callgrind-out-file={cg}", INGEST, str(hosts), str(rounds)],
                       capture_output=True, check=True, timeout=900)
        total = 0
        with open(cg) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    total = int(line.split()[1])
        out[str(hosts)] = {"beacons": hosts * rounds,
                           "instructions_per_beacon": round(total / (hosts * rounds))}
    return out


print(f"bench: {'smoke, ' if args.smoke else ''}{NCPU} cpus, receiver on cpu {RX_CPU}, "
      f"sender on cpu {TX_CPU}")
try:
    if "receive" in PARTS_RUN:
        results["receive"] = receive_rows(HOSTS)
        SOURCES = "one"
        results["receive_one_source"] = receive_rows(ONE_HOSTS)
        SOURCES = "own"

    # ---- Loss at paced rates, 20,000 hosts (or the smoke's) ----
    if "loss" in PARTS_RUN:
        loss = []
        for rate in RATES:
            p = probe_path(HOSTS[-2] if len(HOSTS) > 1 else HOSTS[0], rate)
            loss.append({"rate": rate, "sent": p["sent"], "achieved": p["rate"],
                         "lost": p["sent"] - p["beacons"],
                         "probe_counted": p["lost_probe"],
                         "rcvbuf_errors": p["rcvbuf_errors"]})
        results["loss"] = loss

    if "list" in PARTS_RUN:
        results["new_hosts"] = new_hosts(NEW_HOSTS)
        results["fresh_list"] = fresh_list(LIST_HOSTS)

    if "table" in PARTS_RUN:
        results["table"] = [table_size(h) for h in TABLE_HOSTS]

    if "million" in PARTS_RUN:
        results["million"] = million(MILLION)

    if "callgrind" in PARTS_RUN:
        results["callgrind"] = callgrind()

    # ---- The agent: resident size, wake-ups and allocations per beacon ----
    if "agent" in PARTS_RUN:
        port = next_port()
        rcv = pinned(RX_CPU, RECV, str(port), "100000", "2",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        bound(port)
        allocs = AllocCounter(AGENT)
        try:
            ag = pinned(TX_CPU, AGENT, "--port", str(port), "--broadcast", "127.255.255.255",
                        "--interval", "0.1", "--id", "bench", "--hostname", "bench",
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0 if args.smoke else 4.0)  # past the fast start: a window to observe
            w0 = status(ag.pid, "voluntary_ctxt_switches") + \
                status(ag.pid, "nonvoluntary_ctxt_switches")
            a0 = allocs.count()
            time.sleep(1.0 if args.smoke else 5.0)
            w1 = status(ag.pid, "voluntary_ctxt_switches") + \
                status(ag.pid, "nonvoluntary_ctxt_switches")
            a1 = allocs.count()
            rss = status(ag.pid, "VmRSS")
            ag.send_signal(signal.SIGTERM)
            ag.wait(10)
            started = a0  # the probes were made just before the agent: its start
        finally:
            allocs.close()
        window = 1.0 if args.smoke else 5.0
        results["agent"] = {"rss_kib": rss, "wakeups": w1 - w0,
                            "beacons_expected": round(window / 0.1),
                            "wakeups_per_beacon": round((w1 - w0) / (window / 0.1), 2),
                            "allocations_at_start": started,
                            "allocations_in_window": None if a0 is None else a1 - a0}
        rcv.kill()

    # ---- A signature's cost: sign and verify a default agent's beacon ----
    if "auth" in PARTS_RUN:
        r = subprocess.run([VERIFY, "20000" if args.smoke else "1000000"],
                           capture_output=True, text=True, timeout=300, check=True)
        m = re.search(r"signed beacon (\d+) bytes \(unsigned (\d+)\): sign (\d+) ns, "
                      r"verify (\d+) ns", r.stdout)
        results["auth"] = {"signed_bytes": int(m.group(1)),
                           "unsigned_bytes": int(m.group(2)),
                           "sign_ns": int(m.group(3)), "verify_ns": int(m.group(4))}
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(TMP, ignore_errors=True)

# ---- The table ----
for key, title in (("receive", "every host from its own address, defences at their defaults"),
                   ("receive_one_source", "every host from 127.0.0.1, per-source defences "
                    "lifted")):
    if key not in results:
        continue
    print(f"\n{title}:")
    print(f"{'hosts':>7} {'bare ns':>8} {'probe ns':>9} {'ratio':>6} {'sent':>8} "
          f"{'read':>8} {'in table':>8} {'B/host':>7}")
    for r in results[key]:
        print(f"{r['hosts']:>7} {r['bare']['ns_per_beacon']:>8.0f} "
              f"{r['probe']['ns_per_beacon']:>9.0f} {r['ratio']:>6.2f} "
              f"{r['probe']['sent']:>8} {r['probe']['beacons']:>8} "
              f"{r['probe']['listed']:>8} {r['probe']['rss_bytes_per_host']:>7.0f}")
if "loss" in results:
    print(f"\n{'rate/s':>8} {'achieved':>9} {'lost':>7} {'probe':>7} {'rcvbuf':>7}")
    for r in results["loss"]:
        print(f"{r['rate']:>8} {r['achieved']:>9} {r['lost']:>7} {r['probe_counted']:>7} "
              f"{r['rcvbuf_errors']:>7}")
if "new_hosts" in results:
    n = results["new_hosts"]
    print(f"\nnew hosts: {n['joined']} of {n['hosts']} joined, sent in {n['sending_s']} s, "
          f"the last join {n['last_join_after_last_beacon_s']} s after the last beacon")
    f = results["fresh_list"]
    print(f"fresh list: {f['listed']} of {f['hosts']} hosts answering in {f['answers_s']} s, "
          f"printed {f['printed_after_last_answer_s']} s after the last answer")
for r in results.get("table", []):
    print(f"{r['hosts']} hosts ({r['listed']} in the table): "
          f"{r['rss_bytes_per_host']} resident bytes per host, "
          f"export {r['export_bytes']} bytes in {r['export_s']} s "
          f"(median of {len(r['export_runs_s'])}), "
          f"SIGTERM to exit with a durable export {r['sigterm_to_exit_s']} s")
if "million" in results:
    m = results["million"]

    def x(r):
        return "-" if r is None else f"{r:.2f}x"
    print(f"million: {m['listed']} of {m['hosts']} hosts, filled in {m['fill_s']} s "
          f"({m['fill_lost']} lost filling, {m['steady_lost']} in the steady rounds), "
          f"{m['rss_total_bytes'] / 1e6:.0f} MB resident ({m['rss_bytes_per_host']} B per host), "
          f"{m['ns_per_beacon']:.0f} ns per beacon (a bare receiver: "
          f"{m['bare_ns_per_beacon']} ns), {x(m['ratio_to_1k'])} the probe's "
          f"{m['ns_per_beacon_1k']:.0f} ns at 1,000 hosts in alternate windows "
          f"(median; each: {m['ratio_per_window']}); in user space "
          f"{m['user_ns_per_beacon']:.0f} ns, {x(m['user_ratio_to_1k'])})")
if "callgrind" in results:
    print(f"callgrind: {results['callgrind']}")
if "agent" in results:
    a = results["agent"]
    print(f"agent: {a['rss_kib']} KiB resident, {a['wakeups_per_beacon']} wake-ups per beacon, "
          f"{a['allocations_in_window']} allocations in {a['beacons_expected']} beacons "
          f"({a['allocations_at_start']} before, at start)")
if "auth" in results:
    a = results["auth"]
    print(f"signature: {a['unsigned_bytes']} -> {a['signed_bytes']} bytes, "
          f"sign {a['sign_ns']} ns, verify {a['verify_ns']} ns")
with open(OUT, "w") as f:
    json.dump(results, f, indent=1)
print(f"\nJSON: {OUT}")
