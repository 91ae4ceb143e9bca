# SPDX-License-Identifier: MIT
"""A virtual LAN from Linux network namespaces, for the lab tests.

One switch namespace holds a bridge per segment; every host is a namespace
joined to a segment by a veth pair (its end is called labN), addressed in
the benchmarking range 198.18.0.0/15: segment S is 198.18.S.0/24 and host K
gets 198.18.S.(K+1). Nothing is created in, or attached to, the root
namespace, so broadcasts stay on the lab bridges. Names carry the process
id, so runs never meet; teardown kills every process in every lab
namespace and deletes them, also when a test fails.

Programs run in a host with their own hostname and /etc/machine-id (a
private mount and UTS namespace), through a chain of execs so the PID we
hold is the program's own and signals reach it. Loss is made with nftables
inside the receiving host (this kernel has no netem), for UDP port 138
only so ARP keeps working.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

SKIP = 77


def available():
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("ip", "unshare", "nft"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    name = f"bchk{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True)
    if r.returncode != 0:
        return "network namespaces are not available: " + r.stderr.decode().strip()
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


def sh(*args, check=True):
    r = subprocess.run(args, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r


class Host:
    def __init__(self, lab, index, name):
        self.lab = lab
        self.index = index
        self.name = name              # hostname inside the lab
        self.ns = f"{lab.prefix}-{name}"
        self.addrs = {}               # segment -> address
        self.ifaces = {}              # segment -> interface name
        self.machine_id = os.path.join(lab.dir, f"{name}.machine-id")
        with open(self.machine_id, "w") as f:
            f.write(os.urandom(16).hex() + "\n")
        sh("ip", "netns", "add", self.ns)
        lab.namespaces.append(self.ns)
        self.run_ok("ip", "link", "set", "lo", "up")

    def run_ok(self, *cmd):
        return sh("ip", "netns", "exec", self.ns, *cmd)

    def spawn(self, *cmd, stdout=None, stderr=None, stdin=subprocess.DEVNULL):
        """Start CMD in this host, with its own hostname and machine id."""
        wrapper = ('hostname "$1"; mount --bind "$2" /etc/machine-id; '
                   'shift 2; exec "$@"')
        p = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "--mount", "--uts",
             "--propagation", "private", "sh", "-c", wrapper, "sh",
             self.name, self.machine_id, *cmd],
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=stderr if stderr is not None else subprocess.DEVNULL,
            stdin=stdin)
        self.lab.procs.append(p)
        return p

    def loss(self, percent):
        """Drop PERCENT% of the UDP port 138 datagrams this host receives."""
        subprocess.run(["ip", "netns", "exec", self.ns, "nft", "delete",
                        "table", "inet", "lab"], capture_output=True)
        if percent <= 0:
            return
        rules = ("table inet lab {\n"
                 "  chain input {\n"
                 "    type filter hook input priority 0;\n"
                 f"    udp dport 138 numgen random mod 100 < {int(percent)} drop\n"
                 "  }\n"
                 "}\n")
        p = subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"],
                           input=rules, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"nft in {self.ns}: {p.stderr.strip()}")


def _raise_exit(sig, frame):
    raise SystemExit(128 + sig)


def sweep():
    """Remove the namespaces of lab runs that died without cleaning up
    (SIGKILL, a CTest timeout): their names end in the dead run's pid."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True,
                           text=True).stdout.split("\n")
    for line in names:
        m = re.match(r"^(bl[a-z]+(\d+)-\S+)", line)
        if not m or os.path.exists(f"/proc/{m.group(2)}"):
            continue
        for pid in subprocess.run(["ip", "netns", "pids", m.group(1)],
                                  capture_output=True, text=True).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", m.group(1)], capture_output=True)


class Lab:
    def __init__(self, tag, segments=1):
        # SIGTERM and SIGINT unwind through teardown like any failure.
        signal.signal(signal.SIGTERM, _raise_exit)
        signal.signal(signal.SIGINT, _raise_exit)
        sweep()
        self.prefix = f"bl{tag}{os.getpid()}"
        self.dir = tempfile.mkdtemp(prefix="beacon-lab-")
        self.namespaces = []
        self.procs = []
        self.hosts = []
        self.links = 0
        self.sw = f"{self.prefix}-sw"
        try:
            sh("ip", "netns", "add", self.sw)
            self.namespaces.append(self.sw)
            for s in range(segments):
                self._sw("ip", "link", "add", f"br{s}", "type", "bridge",
                         "stp_state", "0", "forward_delay", "0",
                         "mcast_snooping", "0")
                self._sw("ip", "link", "set", f"br{s}", "up")
        except Exception:
            self.teardown()
            raise

    def _sw(self, *cmd):
        return sh("ip", "netns", "exec", self.sw, *cmd)

    def host(self, name, segments=(0,)):
        """A host on SEGMENTS; its interfaces are lab0, lab1, ..."""
        h = Host(self, len(self.hosts), name)
        self.hosts.append(h)
        for i, s in enumerate(segments):
            port = f"p{self.links}"
            self.links += 1
            ifname = f"lab{i}"
            sh("ip", "link", "add", port, "netns", self.sw, "type", "veth",
               "peer", "name", ifname, "netns", h.ns)
            self._sw("ip", "link", "set", port, "master", f"br{s}")
            self._sw("ip", "link", "set", port, "up")
            addr = f"198.18.{s}.{h.index + 1}"
            h.run_ok("ip", "addr", "add", f"{addr}/24", "brd", f"198.18.{s}.255",
                     "dev", ifname)
            h.run_ok("ip", "link", "set", ifname, "up")
            h.addrs[s] = addr
            h.ifaces[s] = ifname
        return h

    def teardown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for ns in self.namespaces:
            pids = subprocess.run(["ip", "netns", "pids", ns],
                                  capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
        deadline = time.monotonic() + 5
        for ns in self.namespaces:
            while subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                                 text=True).stdout.strip() and time.monotonic() < deadline:
                time.sleep(0.02)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False
