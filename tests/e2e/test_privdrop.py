# SPDX-License-Identifier: MIT
"""--user for the agent and the probe (root only; skips elsewhere): each
reads its keyring as root, then runs as the user with only
CAP_NET_BIND_SERVICE (permitted, effective and bounding sets) and keeps
working: the probe, as nobody, finds the agent, as nobody, verified, and
writes its export. A user that does not exist, or root, is refused with
the reason. Over loopback (127.255.255.255, a high port)."""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

if os.geteuid() != 0:
    t.skip("needs root")
AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
nobody = pwd.getpwnam("nobody")
CAP_NET_BIND_SERVICE = 1 << 10


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)


tmp = tempfile.mkdtemp(prefix="beacon-priv-")
procs = []
try:
    os.chmod(tmp, 0o711)  # nobody may pass through, not list it
    keys = os.path.join(tmp, "keys")
    with open(keys, "w") as f:
        f.write(subprocess.run([AGENT, "--gen-key", "k1"], capture_output=True, text=True,
                               check=True).stdout)
    os.chmod(keys, 0o600)  # root's: nobody could not read it
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    os.chown(out, nobody.pw_uid, nobody.pw_gid)
    export = os.path.join(out, "hosts.json")
    agent = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "priv", "--hostname",
                              "priv", "--keyring", keys, "--user", "nobody"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    probe = subprocess.Popen([PROBE, "serve", *NET, "--keyring", keys, "--user", "nobody",
                              "--export", export, "--export-interval", "0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs += [agent, probe]

    def found():
        try:
            with open(export) as f:
                d = json.load(f)
        except (OSError, ValueError):
            return None
        return next((h for h in d["hosts"] if h["id"] == "priv"), None)
    h = t.wait_for(found, 10)
    t.check(h is not None and h["auth"] == "verified",
            f"the probe as nobody finds the agent as nobody, verified: {h}")
    t.check(os.stat(export).st_uid == nobody.pw_uid, "the export is written as nobody")
    for name, p in (("agent", agent), ("probe", probe)):
        st = status(p.pid)
        t.check(st.get("Uid", "").split() == [str(nobody.pw_uid)] * 4 and
                st.get("Gid", "").split() == [str(nobody.pw_gid)] * 4,
                f"{name}: runs as nobody: Uid {st.get('Uid')} Gid {st.get('Gid')}")
        for s in ("CapEff", "CapPrm", "CapBnd"):
            t.check(int(st.get(s, "0"), 16) == CAP_NET_BIND_SERVICE,
                    f"{name}: {s} is CAP_NET_BIND_SERVICE alone: {st.get(s)}")
        t.check(int(st.get("CapInh", "1"), 16) == 0 and int(st.get("CapAmb", "1"), 16) == 0,
                f"{name}: nothing inherited: {st.get('CapInh')} {st.get('CapAmb')}")
    for user, says in (("no-such-user-x", "no user no-such-user-x"), ("root", "is root")):
        r = subprocess.run([AGENT, *NET, "--once", "--user", user], capture_output=True,
                           text=True, timeout=10)
        t.check(r.returncode == 1 and says in r.stderr,
                f"--user {user}: refused: {r.returncode} {r.stderr.strip()}")
    r = subprocess.run([AGENT, *NET, "--once"], capture_output=True, text=True, timeout=10)
    t.check("running as root" in r.stderr, f"as root without --user, it says so: {r.stderr}")
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
