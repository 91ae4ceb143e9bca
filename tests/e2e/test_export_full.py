# SPDX-License-Identifier: MIT
"""serve --export on a file system that fills up: every failed write closes
and removes its temporary file (no descriptor, no file left behind), the
failure is logged a few times, not once per attempt, the export is retried
at each interval and written again once there is room, and the exit export
is complete. Runs in a private mount and network namespace (root only;
skips otherwise) on a 64 KiB tmpfs of its own."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
AGENT = os.environ["BEACON_AGENT"]
if os.environ.get("BEACON_IN_NS") != "1":
    if os.geteuid() != 0 or not shutil.which("unshare"):
        t.skip("needs root and unshare for a private mount namespace")
    if subprocess.run(["unshare", "--mount", "--net", "true"]).returncode != 0:
        t.skip("namespaces are not available here")
    env = dict(os.environ, BEACON_IN_NS="1")
    os.execvpe("unshare", ["unshare", "--mount", "--net", "--propagation",
                           "private", sys.executable, __file__], env)

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
top = tempfile.mkdtemp(prefix="beacon-export-")
mnt = os.path.join(top, "fs")
os.mkdir(mnt)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], check=True)
path = os.path.join(mnt, "hosts.json")
NET = ["--port", "47610", "--broadcast", "127.255.255.255"]
procs = []
try:
    err = open(os.path.join(top, "probe.err"), "w+")
    probe = subprocess.Popen([PROBE, "serve", *NET, "--export", path,
                              "--export-interval", "0.02"],
                             stdout=subprocess.DEVNULL, stderr=err)
    procs.append(probe)
    procs.append(subprocess.Popen([AGENT, *NET, "--id", "a1", "--hostname", "a1",
                                   "--interval", "0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def fds():
        return len(os.listdir(f"/proc/{probe.pid}/fd"))

    def exported():
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    t.check(t.wait_for(lambda: (exported() or {}).get("hosts"), 10) is not None,
            "the export has the agent")
    before = fds()
    fill = os.open(os.path.join(mnt, "fill"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fill, b"\0" * 4096) > 0:
            pass
    except OSError:
        pass  # full
    os.close(fill)
    time.sleep(3)  # ~150 attempts at 0.02 s: a duration to observe, not a wait
    t.check(probe.poll() is None, "the probe runs on")

    def left():
        return [n for n in os.listdir(mnt) if n not in ("hosts.json", "fill")]
    # An attempt runs every 0.02 s, and one caught in flight holds its
    # temporary file open: look between two attempts. A leak never goes.
    t.wait_for(lambda: fds() == before and left() == [], 2, step=0.001)
    during, stray = fds(), left()
    t.check(during == before, f"descriptors: {before} before, {during} after the failures")
    t.check(stray == [], f"no temporary file left behind: {stray}")
    err.seek(0)
    lines = [l for l in err.read().splitlines() if "cannot write" in l]
    t.check(1 <= len(lines) <= 4, f"the failure is logged a few times, not per attempt: {len(lines)}")
    t.check(any("No space left on device" in l for l in lines), "naming the cause")
    os.unlink(os.path.join(mnt, "fill"))
    again = t.wait_for(lambda: "written again" in open(err.name).read(), 2)
    t.check(again is not None, "written again once there is room")
    probe.send_signal(signal.SIGTERM)
    t.check(probe.wait(10) == 0, "exit 0 on SIGTERM")
    doc = exported()
    t.check(doc is not None and [h["id"] for h in doc["hosts"]] == ["a1"],
            "the exit export is complete")
    print(f"figures: fds {before} before and {during} after ~150 failed exports")
finally:
    t.stop(procs)
    subprocess.run(["umount", mnt])
    shutil.rmtree(top, ignore_errors=True)
t.finish()
