# SPDX-License-Identifier: MIT
"""Signed beacons in the lab: two signed agents on two keys (a rotation:
the probe's keyring has both), one unsigned agent, and a forger on
another lab host that records the signed agent's beacons. The probe lists
the signed agents as verified and the other as unsigned; none of the
forgeries changes a verified host's row: an unsigned goodbye, an unsigned
restart with its id, a recorded beacon with one byte flipped, its id
signed with a key the probe does not have and with another key under the
right key id, a recorded beacon replayed as
it was (auth_replay), and after the agent is killed,
its last beacon replayed every half second: it expires all the same.
--require-auth lists only signed agents. Root only; skips (77)
elsewhere."""
import base64
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import lablib  # noqa: E402
import probes as pr  # noqa: E402
import testlib as t  # noqa: E402

why = lablib.available()
if why:
    t.skip(why)
from scapy_mailslot import build  # noqa: E402


def keyline(kid):
    r = subprocess.run([pr.AGENT, "--gen-key", kid], capture_output=True, text=True,
                       check=True)
    return r.stdout


def keyring(lab, name, *lines):
    path = os.path.join(lab.dir, name)
    with open(path, "w") as f:
        f.writelines(lines)
    os.chmod(path, 0o600)
    return path


def datagram(sender, data):
    return build(data, path="\\MAILSLOT\\beacon", src_ip=sender.addrs[0],
                 dgm_id=int(time.monotonic() * 1000) & 0xffff)


with lablib.Lab("au") as lab:
    probe, s1, s2, u1, evil = (lab.host(n) for n in ("probe", "s1", "s2", "u1", "evil"))
    k1, k2 = keyline("k1"), keyline("k2")
    probe_keys = keyring(lab, "probe.keys", k1, k2)
    s1_keys = keyring(lab, "s1.keys", k1)
    s2_keys = keyring(lab, "s2.keys", k1, k2)  # moved to k2, k1 still there
    evil_keys = keyring(lab, "evil.keys", keyline("k9"))
    evil_k1 = keyring(lab, "evil-k1.keys", keyline("k1"))  # the right id, another key
    # The forger records what s1 sends.
    rec_path = os.path.join(lab.dir, "recorded.json")
    evil.spawn(pr.MAILSLOT, "listen", "--port", "138", "--json", "--timeout", "120",
               "\\\\.\\mailslot\\beacon", stdout=open(rec_path, "w"))
    serve = pr.Serve(probe, "--keyring", probe_keys)
    a1 = pr.agent(s1, "--id", "s1", "--hostname", "s1", "--keyring", s1_keys, interval="1")
    pr.agent(s2, "--id", "s2", "--hostname", "s2", "--keyring", s2_keys, "--key-id", "k2",
             interval="1")
    pr.agent(u1, "--id", "u1", "--hostname", "u1", interval="1")
    hs = serve.wait(lambda h: {"s1", "s2", "u1"} <= set(h) and h["s1"]["beacons_received"] >= 3,
                    15)
    t.check(hs is not None, f"every agent found: {sorted(serve.hosts())}")
    hs = serve.hosts()
    t.check(hs["s1"]["auth"] == "verified" and hs["s2"]["auth"] == "verified",
            f"signed agents verified, on either key: {hs['s1']['auth']} {hs['s2']['auth']}")
    t.check(hs["u1"]["auth"] == "unsigned", f"the other unsigned: {hs['u1']['auth']}")
    row = hs["s1"]

    def recorded():
        out = []
        try:
            with open(rec_path) as f:
                for line in f:
                    m = json.loads(line)
                    if m["src_ip"] == s1.addrs[0]:
                        out.append(base64.b64decode(m["base64"]))
        except (OSError, ValueError):
            pass
        return out
    t.check(bool(t.wait_for(recorded, 5)), "the forger has s1's beacons")
    last = recorded()[-1]

    # Forgeries against the verified host.
    base = {"v": 1, "id": "s1", "inst": row["instance"], "seq": row["seq"] + 5,
            "state": "bye", "host": "s1", "int_ms": 1000, "ttl_ms": 3000}
    bye = json.dumps(base, separators=(",", ":")).encode()
    restart = json.dumps(dict(base, inst="0123456789abcdef", state="up", host="evil"),
                         separators=(",", ":")).encode()
    flipped = last.replace(b'"state":"up"', b'"state":"bye"')
    r = subprocess.run(["ip", "netns", "exec", evil.ns, pr.AGENT, "--port", "138",
                        "--keyring", evil_keys, "--id", "s1", "--hostname", "evil",
                        "--print"], capture_output=True, timeout=10)
    other_key = r.stdout.strip()
    t.check(b'"kid":"k9"' in other_key, "a beacon signed with the forger's own key")
    r = subprocess.run(["ip", "netns", "exec", evil.ns, pr.AGENT, "--port", "138",
                        "--keyring", evil_k1, "--id", "s1", "--hostname", "evil",
                        "--print"], capture_output=True, timeout=10)
    same_id = r.stdout.strip()
    older = recorded()[-3]  # a beacon s1 sent two intervals ago, as it was
    pr.send_raw(evil, [datagram(evil, d)
                       for d in (bye, restart, flipped, other_key, same_id, older)])

    def dropped():
        d = serve.doc()
        dr = d["stats"]["dropped"] if d else {}
        return dr if dr.get("auth_unverified", 0) >= 2 and dr.get("auth_bad_mac", 0) >= 2 \
            and dr.get("auth_unknown_key", 0) >= 1 and dr.get("auth_replay", 0) >= 1 else None
    dr = t.wait_for(dropped, 5)
    t.check(dr is not None, f"each forgery dropped and counted: "
            f"{ {k: v for k, v in ((serve.doc() or {}).get('stats', {}).get('dropped', {})).items() if k.startswith('auth')} }")
    t.check(dr is not None and dr.get("replayed", 0) == 0,
            f"a signed replay is counted once, as auth_replay: {dr and dr.get('replayed')}")
    time.sleep(2)  # two more intervals of s1
    s = serve.hosts()["s1"]
    t.check(s["status"] == "alive" and s["auth"] == "verified" and s["hostname"] == "s1" and
            s["instance"] == row["instance"] and s["restarts"] == 0,
            f"s1 untouched: {s['status']} {s['auth']} {s['hostname']} restarts {s['restarts']}")

    # Killed; its last beacon replayed every 0.5 s: it still goes.
    a1.send_signal(signal.SIGKILL)
    a1.wait(5)
    last = recorded()[-1]
    killed = time.monotonic()
    deadline = killed + 20
    gone = None
    while time.monotonic() < deadline:
        pr.send_raw(evil, [datagram(evil, last)])
        st = serve.hosts().get("s1", {}).get("status")
        if st in ("stale", "expired"):
            gone = st
            if st == "expired":
                break
        time.sleep(0.5)
    t.check(gone == "expired",
            f"replaying s1's last beacon does not keep it alive: {gone} after "
            f"{time.monotonic() - killed:.1f} s")
    # Nor brings it back once expired.
    for _ in range(4):
        pr.send_raw(evil, [datagram(evil, d) for d in recorded()[-3:]])
        time.sleep(0.5)
    st = serve.hosts().get("s1", {}).get("status")
    t.check(st == "expired", f"replays after its expiry do not revive it: {st}")

    # --require-auth: only the signed agents that live.
    r = pr.probe_list(probe, "--keyring", probe_keys, "--require-auth", "--json",
                      "--wait", "2.5")
    ids = {h["id"] for h in json.loads(r.stdout)["hosts"]} if r.stdout else set()
    t.check(ids == {"s2"}, f"--require-auth lists only the signed agents: {sorted(ids)}")
t.finish()
