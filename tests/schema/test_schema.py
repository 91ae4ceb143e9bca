# SPDX-License-Identifier: MIT
"""The JSON Schemas (Debian's python3-jsonschema): they are valid 2020-12
schemas with a description on every property; the examples pass or fail as
their folder says; beacon-agent --print output (default, and with tags that
force the budget) and real probe documents (list --json, serve --export)
validate. Loopback only."""
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:
    print("FAIL: python3-jsonschema is not installed (see the README)")
    sys.exit(1)

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
schemas = {}
for name in ("beacon", "query", "table", "merged", "event", "history"):
    with open(os.path.join(ROOT, "schema", f"{name}.schema.json")) as f:
        schemas[name] = json.load(f)
    Draft202012Validator.check_schema(schemas[name])


def described(node, path):
    """Every property schema (and every $defs entry) has a description."""
    if isinstance(node, dict):
        for key in ("properties", "$defs"):
            for k, v in node.get(key, {}).items():
                if isinstance(v, dict) and "$ref" not in v:
                    t.check("description" in v, f"{path}/{key}/{k} has a description")
        for k, v in node.items():
            described(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            described(v, f"{path}/{i}")


def errors(name, doc):
    """Its errors against schema NAME; merged's $ref reaches table's host,
    history's the event."""
    from jsonschema import RefResolver
    store = {s["$id"]: s for s in schemas.values()}
    v = Draft202012Validator(schemas[name], format_checker=FormatChecker(),
                             resolver=RefResolver.from_schema(schemas[name], store=store))
    return [e.message for e in v.iter_errors(doc)]


for name, s in schemas.items():
    described(s, name)

for kind in ("valid", "invalid"):
    files = sorted(glob.glob(os.path.join(ROOT, "schema", "examples", kind, "*.json")))
    t.check(len(files) >= 3, f"{kind} examples exist")
    for path in files:
        name = os.path.basename(path).split("-")[0]
        with open(path) as f:
            doc = json.load(f)
        errs = errors(name, doc)
        if kind == "valid":
            t.check(not errs, f"{os.path.basename(path)} is valid: {errs[:2]}")
        else:
            t.check(bool(errs), f"{os.path.basename(path)} is invalid")

# The agent's beacons, as --print shows them.
long_tags = [f"--tag=k{i:02d}={'v' * 64}" for i in range(16)]
for extra in ([], ["--tag", "role=web", "--hostname", "lab-host-01"], long_tags):
    r = subprocess.run([AGENT, "--print", "--id", "schema-test", *extra],
                       capture_output=True, text=True, timeout=20)
    t.check(r.returncode == 0, f"agent --print {extra[:2]}: {r.stderr}")
    out = r.stdout.strip()
    t.check(len(out.encode()) <= 424 - 48, f"beacon within the 376-byte budget: {len(out)}")
    t.check(not errors("beacon", json.loads(out)), f"agent --print {extra[:2]} validates")
    if extra is long_tags:
        t.check("optional items dropped" in r.stderr and " 0 optional" not in r.stderr,
                f"the budget dropped tags and says so: {r.stderr.strip()}")

# Signed, with an address kept and every tag it can: within 424 bytes.
with tempfile.TemporaryDirectory() as d:
    keys = os.path.join(d, "keys")
    with open(keys, "w") as f:
        f.write(subprocess.run([AGENT, "--gen-key", "site-01"], capture_output=True,
                               text=True, check=True).stdout)
    os.chmod(keys, 0o600)
    for extra in ([], long_tags):
        r = subprocess.run([AGENT, "--print", "--id", "schema-test", "--keyring", keys,
                            *extra], capture_output=True, text=True, timeout=20)
        out = r.stdout.strip()
        t.check(r.returncode == 0 and len(out.encode()) <= 424,
                f"signed beacon within 424 bytes: {len(out)} {r.stderr}")
        b = json.loads(out) if out else {}
        t.check(not errors("beacon", b) and "sig" in b and b.get("ipv4"),
                f"signed --print {extra[:1]} validates, with its address: {r.stderr.strip()}")

# Real probe documents.
port = str(t.free_port())
common = ["--port", port, "--broadcast", "127.255.255.255"]
agents = [subprocess.Popen([AGENT, *common, "--interval", "10", "--id", f"s{i}",
                            "--hostname", f"schema-{i}", "--tag", f"n={i}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
          for i in range(2)]
try:
    r = subprocess.run([PROBE, "list", *common, "--wait", "1.5", "--json"],
                       capture_output=True, text=True, timeout=30)
    t.check(r.returncode == 0, f"probe list --json: exit {r.returncode} {r.stderr}")
    doc = json.loads(r.stdout)
    t.check(not errors("table", doc), f"list --json validates: {errors('table', doc)[:2]}")
    t.check(sorted(h["id"] for h in doc["hosts"]) == ["s0", "s1"], "both agents listed")

    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as h:
        path = os.path.join(d, "hosts.json")
        db, expect = os.path.join(h, "b.db"), os.path.join(h, "expect")
        with open(expect, "w") as f:
            f.write("s0\nnever-heard\n")
        http = f"127.0.0.1:{t.tcp_port()}"
        serve = subprocess.Popen([PROBE, "serve", *common, "--export", path,
                                  "--export-interval", "0.2", "--db", db, "--http", http,
                                  "--expect", expect],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def page():
            try:
                with urllib.request.urlopen(f"http://{http}/v1/history", timeout=5) as r:
                    return json.load(r)
            except (OSError, ValueError):
                return {}
        t.check(t.wait_for(lambda: any(e.get("event") == "missing"
                                       for e in page().get("events", [])), 15),
                "the history has the missing event")
        doc = page()
        t.check(not errors("history", doc), f"/v1/history validates: {errors('history', doc)[:2]}")
        r = subprocess.run([PROBE, "history", "--db", db, "--json"], capture_output=True,
                           text=True, timeout=10)
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        t.check(len(lines) >= 5 and all(not errors("event", e) for e in lines),
                f"history --json: {len(lines)} events validate")

        def exported():
            try:
                with open(path) as f:
                    return len(json.load(f)["hosts"]) == 2
            except (OSError, ValueError):
                return False
        t.check(t.wait_for(exported, 10), "serve exports both hosts")
        serve.send_signal(signal.SIGTERM)
        t.check(serve.wait(10) == 0, "serve exits 0 on SIGTERM")
        with open(path) as f:
            doc = json.load(f)
        t.check(not errors("table", doc), f"serve --export validates: {errors('table', doc)[:2]}")
        t.check(os.listdir(d) == ["hosts.json"], f"no temporary files left: {os.listdir(d)}")
finally:
    for a in agents:
        a.terminate()
        a.wait(10)
t.finish()
