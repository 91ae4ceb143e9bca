# SPDX-License-Identifier: MIT
"""Signed beacons end to end over loopback (127.255.255.255, a high port):
a probe with the keyring shows the signed agent as verified and the
unsigned one as unsigned; forgeries (an unsigned goodbye and an unsigned
restart with the verified host's id, a flipped byte, an unknown key, a
well-signed recording ten minutes old) are dropped and counted by reason
and change nothing; --auth filters;
--require-auth lists only the signed agent; a probe without the keyring
sees it as unsigned; keyrings with bad permissions are refused with the
fix in the message."""
import base64
import hashlib
import json
import os
import re
import time
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
PORT = str(t.free_port())
NET = ["--port", PORT, "--broadcast", "127.255.255.255"]
tmp = tempfile.mkdtemp(prefix="beacon-auth-")
procs = []


def keyring(name, *ids, mode=0o600):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write("# test keys\n")
        for i in ids:
            r = subprocess.run([AGENT, "--gen-key", i], capture_output=True, text=True)
            t.check(r.returncode == 0, f"--gen-key {i}: {r.stderr}")
            f.write(r.stdout)
    os.chmod(path, mode)
    return path


def send(payload):
    r = subprocess.run([t.MAILSLOT, "send", *NET, "\\\\*\\mailslot\\beacon"],
                       input=payload, capture_output=True, timeout=10)
    t.check(r.returncode == 0, f"mailslot send: {r.stderr!r}")


def signed_print(keys, *extra):
    r = subprocess.run([AGENT, *NET, "--keyring", keys, "--print", *extra],
                       capture_output=True, timeout=10)
    return r.stdout.strip()


keys = keyring("keys", "site1")
other = keyring("other", "site1")  # the same key id, another key
unknown = keyring("unknown", "k9")
try:
    signed = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "signed",
                               "--hostname", "signed", "--keyring", keys],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    plain = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "plain",
                              "--hostname", "plain"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs += [signed, plain]
    export = os.path.join(tmp, "hosts.json")
    serve = subprocess.Popen([PROBE, "serve", *NET, "--all", "--keyring", keys,
                              "--export", export, "--export-interval", "0.1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    procs.append(serve)

    def doc():
        try:
            with open(export) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def rows():
        d = doc()
        return {h["id"]: h for h in d["hosts"]} if d else {}

    got = t.wait_for(lambda: (lambda r: r if {"signed", "plain"} <= set(r) else None)(rows()),
                     10)
    t.check(got is not None, f"both agents found: {sorted(rows())}")
    r = rows()
    t.check(r.get("signed", {}).get("auth") == "verified", f"signed: {r.get('signed', {}).get('auth')}")
    t.check(r.get("plain", {}).get("auth") == "unsigned", f"plain: {r.get('plain', {}).get('auth')}")
    inst = r.get("signed", {}).get("instance", "x")
    seq = r.get("signed", {}).get("seq", 1)

    # Forgeries with the verified host's id.
    bye = json.dumps({"v": 1, "id": "signed", "inst": inst, "seq": seq + 1, "state": "bye",
                      "host": "signed", "int_ms": 500, "ttl_ms": 1500},
                     separators=(",", ":")).encode()
    send(bye)
    restart = bye.replace(b'"bye"', b'"up"').replace(inst.encode(), b"0000000000000001")
    send(restart.replace(b'"host":"signed"', b'"host":"renamed"'))
    # A real signed beacon of that id, one byte changed; one signed with
    # another key of the same id; one with a key id not in the keyring.
    good = signed_print(keys, "--id", "signed", "--hostname", "signed")
    t.check(b'"sig":{"kid":"site1"' in good, f"--print shows the signature: {good[-80:]!r}")
    send(good.replace(b'"state":"up"', b'"state":"bye"'))
    send(signed_print(other, "--id", "signed", "--hostname", "evil"))
    send(signed_print(unknown, "--id", "signed", "--hostname", "evil"))

    # A recording: a good signature, but sent 10 minutes ago by an
    # instance the probe does not know (re-signed here with the key, by
    # Python's BLAKE2b).
    with open(keys) as f:
        key = base64.b64decode(f.read().split()[-1])
    old = int(time.time() * 1000) - 600000
    rec = good.replace(b'"id":"signed"', b'"id":"recorded"').replace(b'"host":"signed"', b'"host":"recorded"')
    rec = re.sub(rb'"ts":\d+', b'"ts":%d' % old, rec)
    body = rec[:rec.rindex(b'"mac":"') + 7]
    mac = hashlib.blake2b(body, key=key, digest_size=16).digest()
    send(body + base64.urlsafe_b64encode(mac).rstrip(b"=") + b'"}}')

    def counted():
        d = doc()
        if not d:
            return None
        dr = d["stats"]["dropped"]
        return dr if dr["auth_unverified"] >= 2 and dr["auth_bad_mac"] >= 2 and \
            dr["auth_unknown_key"] >= 1 and dr["auth_stale"] >= 1 else None
    dr = t.wait_for(counted, 5)
    t.check(dr is not None, f"every forgery dropped and counted: "
            f"{ {k: v for k, v in (doc() or {}).get('stats', {}).get('dropped', {}).items() if k.startswith('auth')} }")
    t.wait_for(lambda: False, 1.2)  # two more agent intervals: the condition under test
    r = rows()
    t.check("recorded" not in r, f"a recorded beacon makes no host: {sorted(r)}")
    t.check(doc()["stats"]["direct_queries"] >= 1, "and the probe asks its source")
    s = r.get("signed", {})
    t.check(s.get("status") == "alive" and s.get("auth") == "verified" and
            s.get("hostname") == "signed" and s.get("instance") == inst and s.get("restarts") == 0,
            f"the verified host is untouched: {s.get('status')} {s.get('auth')} "
            f"{s.get('hostname')} restarts {s.get('restarts')}")

    # A host whose clock is an hour ahead: its beacons look like
    # recordings until it answers the probe's query, which carries the
    # probe's nonce, signed: verified then.
    env = dict(os.environ, LD_PRELOAD=os.environ["SKEW_LIB"], BEACON_SKEW_MS="3600000",
               ASAN_OPTIONS="verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", ""))
    skewed = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "skewed",
                               "--hostname", "skewed", "--keyring", keys],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    procs.append(skewed)
    t0 = time.monotonic()
    sk = t.wait_for(lambda: rows().get("skewed"), 10)
    t.check(sk is not None and sk["auth"] == "verified",
            f"a host whose clock is an hour off is verified by its answer: {sk and sk['auth']}")
    if sk:
        print(f"skewed host verified {time.monotonic() - t0:.2f} s after it started")
    t.check(doc()["stats"]["dropped"]["auth_stale"] >= 2,
            "after its first beacons were taken for recordings")

    # Filters and --require-auth, on fresh probes.
    def listing(*extra):
        p = subprocess.run([PROBE, "list", *NET, "--json", "--wait", "1.2", *extra],
                           capture_output=True, text=True, timeout=30)
        d = json.loads(p.stdout) if p.stdout else {"hosts": [], "stats": {}}
        return p, {h["id"]: h for h in d["hosts"]}, d
    _, only, _ = listing("--keyring", keys, "--auth", "verified")
    t.check(set(only) == {"signed", "skewed"}, f"--auth verified: {sorted(only)}")
    _, only, d = listing("--keyring", keys, "--require-auth")
    t.check(set(only) == {"signed", "skewed"},
            f"--require-auth lists only the signed agents: {sorted(only)}")
    t.check(d["stats"].get("dropped", {}).get("auth_unsigned", 0) >= 1,
            "and counts the unsigned beacons")
    _, without, _ = listing()
    t.check(without.get("signed", {}).get("auth") == "unsigned",
            f"a probe without the keyring: unsigned, still listed: {without.get('signed', {}).get('auth')}")
    p = subprocess.run([PROBE, "list", *NET, "--wait", "1.2", "--keyring", keys, "-H"],
                       capture_output=True, text=True, timeout=30)
    t.check("alive,verified" in p.stdout, f"list shows the auth state: {p.stdout}")
    status = {line.split()[0]: line.split()[3] for line in p.stdout.splitlines()[1:]
              if len(line.split()) > 3}
    t.check(status.get("plain") == "alive,unsigned" and status.get("signed") == "alive,verified",
            f"with a keyring, the text table marks the unsigned host too: {status}")
    p = subprocess.run([PROBE, "list", *NET, "--wait", "1.2", "-H"],
                       capture_output=True, text=True, timeout=30)
    t.check("unsigned" not in p.stdout and "verified" not in p.stdout,
            f"without a keyring, no auth state in the text table: {p.stdout}")

    # Keyrings a site must not use.
    loose = keyring("loose", "k1", mode=0o644)
    for prog in ([PROBE, "list", *NET, "--wait", "0.1"], [AGENT, *NET, "--once"]):
        p = subprocess.run([*prog, "--keyring", loose], capture_output=True, text=True,
                           timeout=10)
        t.check(p.returncode == 1 and "chmod 600" in p.stderr,
                f"{os.path.basename(prog[0])}: a keyring others can read is refused: "
                f"{p.returncode} {p.stderr.strip()}")
    p = subprocess.run([PROBE, "list", *NET, "--require-auth"], capture_output=True,
                       text=True, timeout=10)
    t.check(p.returncode == 64 and "--keyring" in p.stderr, f"--require-auth alone: {p.stderr}")
finally:
    t.stop(procs, term=True)
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
t.finish()
