# SPDX-License-Identifier: MIT
"""beacon-probe diff OLD.json NEW.json: hosts new, gone (live, then not
live or absent), back, and changed (hostname, addresses in any order, OS,
tags), as text and --json; exit 2 when nothing changed, 1 for a file that
is not a table (a device, missing, another JSON), 64 without two files.
A hostname with a terminal escape never reaches the terminal raw."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
tmp = tempfile.mkdtemp(prefix="beacon-diff-")


def host(i, name, status, addrs, tags=None):
    return {"id": i, "hostname": name, "kind": "beacon", "status": status,
            "addresses": addrs, "os": "Debian GNU/Linux", "os_version": "12",
            "tags": tags or {}}


def table(name, hosts):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        json.dump({"schema_version": 1, "hosts": hosts}, f)
    return path


def diff(*args):
    return subprocess.run([PROBE, "diff", *args], capture_output=True, timeout=10)


try:
    old = table("old.json", [
        host("a1", "alpha", "alive", ["198.18.0.1", "198.18.0.2"]),
        host("b1", "bravo", "alive", ["198.18.0.3"]),
        host("c1", "charlie", "expired", ["198.18.0.4"]),
        host("d1", "delta", "stale", ["198.18.0.5"]),
        host("e1", "echo", "alive", ["198.18.0.6"], {"role": "web"})])
    new = table("new.json", [
        host("a1", "alpha", "alive", ["198.18.0.2", "198.18.0.1"]),
        host("b1", "bravo", "left", ["198.18.0.3"]),
        host("c1", "charlie", "alive", ["198.18.0.4"]),
        host("e1", "echo\x1b[31m", "stale", ["198.18.0.7"], {"role": "db"}),
        host("n1", "november", "alive", ["198.18.0.9"])])
    r = diff(old, new, "--json")
    d = json.loads(r.stdout)
    ids = {k: [(e["id"], e["status"]) for e in v] for k, v in d.items() if k != "changed"}
    t.check(r.returncode == 0 and ids == {"new": [("n1", "alive")],
                                          "gone": [("b1", "left"), ("d1", "absent")],
                                          "back": [("c1", "alive")]},
            f"new, gone, back: {ids}")
    ch = d["changed"]
    t.check(len(ch) == 1 and ch[0]["id"] == "e1" and
            set(ch[0]["changes"]) == {"hostname", "addresses", "tags"} and
            ch[0]["changes"]["tags"] == {"old": {"role": "web"}, "new": {"role": "db"}},
            f"changed: e1's hostname, addresses, tags; a1's reordered addresses are not: {ch}")
    r = diff(old, new)
    t.check(r.returncode == 0 and b"\x1b" not in r.stdout and b"echo\\x1b[31m" in r.stdout
            and b"tags: {\"role\":\"web\"} -> {\"role\":\"db\"}" in r.stdout,
            f"text: escaped, with the change: {r.stdout!r}")
    r = diff(old, old)
    t.check(r.returncode == 2 and r.stdout == b"", "the same table: nothing, exit 2")
    bad = table("bad.json", [])
    with open(bad, "w") as f:
        f.write('{"hosts": 5}')
    for path, why in ((bad, b"not a beacon table"), ("/dev/null", b"character device"),
                      (os.path.join(tmp, "none.json"), b"No such file")):
        r = diff(old, path)
        t.check(r.returncode == 1 and why in r.stderr, f"{path}: refused ({r.stderr!r})")
    r = diff(old)
    t.check(r.returncode == 64 and b"diff needs OLD.json NEW.json" in r.stderr, "one file: usage")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
