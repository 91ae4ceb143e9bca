# SPDX-License-Identifier: MIT
"""serve --mqtt with Debian's mosquitto started by the test on loopback
(a free port, a password file, no persistence): the probe's retained
state (online, every row with its site), a goodbye in the merged view
within a second, the broker restarted mid-run (the state republished),
SIGKILL (offline through the last will), a second LAN under another
site and list --mqtt merging both (a SITE column, --site, the filters,
an offline site's hosts unknown), a wrong password and a topic level
injection in --site refused with clear messages. Skips (77)
without mosquitto."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

for tool in ("mosquitto", "mosquitto_sub", "mosquitto_passwd"):
    if shutil.which(tool) is None:
        t.skip(f"no {tool} (Debian's mosquitto and mosquitto-clients)")
AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
tmp = tempfile.mkdtemp(prefix="beacon-mqtt-")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    BROKER = s.getsockname()[1]
procs = []


def broker():
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {BROKER} 127.0.0.1\nallow_anonymous false\n"
                f"password_file {os.path.join(tmp, 'passwd')}\npersistence false\n")
    b = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(tmp, "broker.log"), "a"))
    procs.append(b)
    t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", BROKER)) == 0, 5)
    return b


SUB = ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(BROKER), "-u", "ops", "-P", "pw-1"]


def retained(topic="beacon/v1/#"):
    """The retained messages now: topic -> JSON (None for an empty one)."""
    r = subprocess.run([*SUB, "-t", topic, "-v", "--retained-only", "-W", "1"],
                       capture_output=True, text=True, timeout=10)
    out = {}
    for line in r.stdout.splitlines():
        topic, _, payload = line.partition(" ")
        out[topic] = json.loads(payload) if payload else None
    return out


try:
    subprocess.run(["mosquitto_passwd", "-b", "-c", os.path.join(tmp, "passwd"), "ops", "pw-1"],
                   check=True, capture_output=True)
    os.chmod(os.path.join(tmp, "passwd"), 0o600)
    if os.geteuid() == 0:  # mosquitto started as root becomes its own user
        import pwd
        m = pwd.getpwnam("mosquitto")
        os.chmod(tmp, 0o711)
        os.chown(os.path.join(tmp, "passwd"), m.pw_uid, m.pw_gid)
    b = broker()
    pwfile = os.path.join(tmp, "pw")
    with open(pwfile, "w") as f:
        f.write("pw-1\n")
    os.chmod(pwfile, 0o600)
    agent = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "a1", "--hostname", "a1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(agent)
    serve = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                              "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}",
                              "--mqtt-password-file", pwfile, "--site", "lab1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(serve)
    got = t.wait_for(lambda: (lambda r: r if "beacon/v1/lab1/hosts/a1" in r else None)(
        retained()), 10)
    t.check(got is not None, f"the host's row is retained: {sorted(retained())}")
    if got:
        row = got["beacon/v1/lab1/hosts/a1"]
        t.check(row["site"] == "lab1" and row["id"] == "a1" and row["status"] == "alive",
                f"with its site: {row.get('site')} {row.get('status')}")
        pm = got["beacon/v1/lab1/probe"]
        t.check(pm["status"] == "online" and pm["site"] == "lab1" and
                pm["heartbeat"].endswith("Z") and pm["settings"]["workgroup"] == "WORKGROUP" and
                pm["settings"]["refresh_ms"] == 30000,
                f"the probe is online, with its heartbeat and settings: {pm}")
    # The broker's connection is the probe loop's: no thread of
    # libmosquitto's (it would keep what the loop gives up at --user).
    tasks = os.listdir(f"/proc/{serve.pid}/task")
    t.check(tasks == [str(serve.pid)], f"serve --mqtt runs one task, not {len(tasks)}")

    # A goodbye, seen by a subscriber, within a second.
    watch = subprocess.Popen([*SUB, "-t", "beacon/v1/lab1/hosts/a1", "-F", "%U %p"],
                             stdout=subprocess.PIPE, text=True)
    procs.append(watch)
    sub_lines = []
    t.reader(watch.stdout, sub_lines)
    # Subscribed once the retained row has come (it comes first).
    t.check(t.wait_for(lambda: sub_lines, 10), "the subscriber has the retained row")
    t0 = time.time()
    agent.send_signal(signal.SIGTERM)

    def left_at():
        for _, line in list(sub_lines):
            stamp, _, payload = line.partition(" ")
            if payload.strip() and json.loads(payload)["status"] == "left":
                return [float(stamp) - t0]
        return None
    seen = (t.wait_for(left_at, 5) or [None])[0]
    watch.kill()
    t.check(seen is not None and seen < 1.0, f"the goodbye reached the subscriber in {seen} s")
    if seen is not None:
        print(f"goodbye to subscriber: {seen:.3f} s")

    # The broker restarted, its retained state gone: the probe puts it back.
    b.terminate()
    b.wait(10)
    b = broker()
    t1 = time.monotonic()
    back = t.wait_for(lambda: (lambda r: r if "beacon/v1/lab1/hosts/a1" in r and
                               r.get("beacon/v1/lab1/probe", {}).get("status") == "online"
                               else None)(retained()), 40, 0.2)
    t.check(back is not None, "after a broker restart the probe republishes its state")
    if back:
        print(f"state republished {time.monotonic() - t1:.2f} s after the broker came back")
        t.check(back["beacon/v1/lab1/hosts/a1"]["status"] == "left", "as it is: a1 left")

    # A second LAN (another port: another segment) under site lab2, and the
    # merged view of both.
    NET2 = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
    a2 = subprocess.Popen([AGENT, *NET2, "--interval", "0.5", "--id", "b1", "--hostname", "b1",
                           "--tag", "role=db"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s2 = subprocess.Popen([PROBE, "serve", *NET2, "--export", os.path.join(tmp, "h3.json"),
                           "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}",
                           "--mqtt-password-file", pwfile, "--site", "lab2"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs += [a2, s2]

    def merged(*extra):
        r = subprocess.run([PROBE, "list", "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}",
                            "--mqtt-password-file", pwfile, "--json", "--wait", "1", *extra],
                           capture_output=True, text=True, timeout=30)
        return r, {(h["site"], h["id"]): h for h in json.loads(r.stdout)["hosts"]} \
            if r.stdout.strip() else {}
    got = t.wait_for(lambda: (lambda m: m if ("lab2", "b1") in m[1] else None)(merged("--all")),
                     10, 0.2)
    t.check(got is not None and set(got[1]) == {("lab1", "a1"), ("lab2", "b1")},
            f"list --mqtt merges both sites: {sorted(got[1]) if got else None}")
    # The documents and the published rows against the schemas.
    from jsonschema import Draft202012Validator, RefResolver
    SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "schema")
    sch = {n: json.load(open(os.path.join(SCHEMA, f"{n}.schema.json"))) for n in ("table", "merged")}
    store = {x["$id"]: x for x in sch.values()}

    def invalid(doc):
        v = Draft202012Validator(sch["merged"], resolver=RefResolver.from_schema(
            sch["merged"], store=store))
        return [e.message for e in v.iter_errors(doc)]
    if got:
        doc = json.loads(got[0].stdout)
        t.check(not invalid(doc), f"list --mqtt --json validates: {invalid(doc)[:2]}")
        rows = [v for k, v in retained().items() if "/hosts/" in k and v]
        t.check(rows and not invalid({"schema_version": 1, "source": "mqtt", "hosts": rows}),
                "the published rows validate as rows with a site")
    _, one = merged("--site", "lab2")
    t.check(set(one) == {("lab2", "b1")}, f"--site lab2 alone: {sorted(one)}")
    _, tagged = merged("--all", "--tag", "role=db")
    t.check(set(tagged) == {("lab2", "b1")}, f"the list's filters: {sorted(tagged)}")
    r = subprocess.run([PROBE, "list", "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}",
                        "--mqtt-password-file", pwfile, "--wait", "1", "--all", "-H"],
                       capture_output=True, text=True, timeout=30)
    t.check(r.stdout.startswith("SITE") and "lab2" in r.stdout, f"a SITE column: {r.stdout}")

    # watch --mqtt: the merged table live (a JSON document per change) and
    # the sites' events with their site.
    MQ = ["--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}", "--mqtt-password-file", pwfile]
    wj = subprocess.Popen([PROBE, "watch", *MQ, "--json", "--all", "--wait", "0.5"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    we = subprocess.Popen([PROBE, "watch", *MQ, "--events", "--wait", "0.5"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs += [wj, we]
    if os.geteuid() == 0:
        # --user is honoured, not ignored: every task of watch --mqtt runs
        # as nobody, with no capability but CAP_NET_BIND_SERVICE (bit 10).
        wu = subprocess.Popen([PROBE, "watch", *MQ, "--json", "--all", "--user", "nobody"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(wu)
        first = []
        t.reader(wu.stdout, first)
        t.check(t.wait_for(lambda: first, 10), "watch --mqtt --user nobody shows the table")

        def task_ids(pid):
            out = []
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/status") as f:
                    st = dict(line.split(":", 1) for line in f if ":" in line)
                out.append((st["Uid"].split(), int(st["CapEff"], 16), int(st["CapBnd"], 16)))
            return out
        ids = task_ids(wu.pid)
        t.check(ids and all(u == ["65534"] * 4 and eff & ~0x400 == 0 and bnd & ~0x400 == 0
                            for u, eff, bnd in ids),
                f"watch --mqtt --user nobody: every task nobody, no capability: {ids}")
        wu.kill()
    docs, events = [], []
    t.reader(wj.stdout, docs)
    t.reader(we.stdout, events)

    def doc_has(site, hid, status):
        for stamp, line in list(docs):
            for h in json.loads(line)["hosts"]:
                if (h["site"], h["id"], h["status"]) == (site, hid, status):
                    return stamp
        return None
    t.check(t.wait_for(lambda: doc_has("lab2", "b1", "alive"), 10) is not None,
            "watch --mqtt shows the merged table")
    b2 = subprocess.Popen([AGENT, *NET2, "--interval", "0.5", "--id", "b2", "--hostname", "b2"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(b2)
    t.check(t.wait_for(lambda: doc_has("lab2", "b2", "alive"), 10) is not None,
            "a host that joins appears in watch --mqtt")
    # watch --events has its join, so it will have the goodbye too.
    t.check(t.wait_for(lambda: [x for _, x in list(events) if
                                json.loads(x).get("id") == "b2" and
                                json.loads(x).get("event") == "join"], 10),
            "watch --mqtt --events has the join")
    t0 = time.monotonic()
    b2.send_signal(signal.SIGTERM)
    left = t.wait_for(lambda: doc_has("lab2", "b2", "left"), 5, 0.02)
    t.check(left is not None and left - t0 < 1.0,
            f"its goodbye reaches watch --mqtt within a second: {left and left - t0}")
    if left:
        print(f"goodbye to the merged view (watch --mqtt): {left - t0:.3f} s")
    ev = t.wait_for(lambda: [json.loads(x) for _, x in list(events) if
                             json.loads(x).get("id") == "b2" and
                             json.loads(x).get("event") == "leave"], 5, 0.05)
    t.check(bool(ev) and ev[0]["site"] == "lab2", f"watch --mqtt --events: {ev}")
    s2.send_signal(signal.SIGKILL)
    s2.wait(10)
    off_ev = t.wait_for(lambda: [json.loads(x) for _, x in list(events) if
                                 json.loads(x).get("event") == "site_offline"], 10, 0.05)
    t.check(bool(off_ev) and off_ev[0]["site"] == "lab2",
            f"a site's probe gone: a site_offline event: {off_ev}")
    t.check(t.wait_for(lambda: doc_has("lab2", "b1", "unknown"), 10) is not None,
            "and its hosts unknown in watch --mqtt")
    for w in (wj, we):
        w.send_signal(signal.SIGTERM)
        t.check(w.wait(5) == 0, "watch --mqtt ends on SIGTERM with status 0")

    # A third site: a previous run's ghost row is cleared, rows leaving the
    # table are cleared, Home Assistant discovery follows the rows.
    PUB = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(BROKER), "-u", "ops", "-P", "pw-1"]
    subprocess.run([*PUB, "-r", "-q", "1", "-t", "beacon/v1/lab3/hosts/ghost", "-m",
                    json.dumps({"site": "lab3", "id": "ghost", "status": "alive"})], check=True)
    NET3 = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
    c1 = subprocess.Popen([AGENT, *NET3, "--interval", "0.5", "--id", "c1", "--hostname", "c1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(c1)
    s3 = subprocess.Popen([PROBE, "serve", *NET3, "--export", os.path.join(tmp, "h4.json"),
                           *MQ, "--site", "lab3", "--max-hosts", "1", "--mqtt-refresh", "1",
                           "--mqtt-homeassistant"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(s3)
    HA1 = "homeassistant/device_tracker/beacon_lab3/c1/config"
    got = t.wait_for(lambda: (lambda r: r if "beacon/v1/lab3/hosts/c1" in r and HA1 in r
                              else None)(retained("#")), 10, 0.2)
    t.check(got is not None, "lab3: the row and its Home Assistant config are retained")
    if got:
        ha = got[HA1]
        t.check(ha["state_topic"] == "beacon/v1/lab3/hosts/c1" and
                ha["availability_topic"] == "beacon/v1/lab3/probe" and
                "value_json.status == 'alive'" in ha["value_template"] and
                ha["device"]["name"] == "c1" and ha["unique_id"] == "beacon_lab3_c1",
                f"a device_tracker home while alive: {ha}")
    gone = t.wait_for(lambda: "beacon/v1/lab3/hosts/ghost" not in retained(), 15, 0.2)
    t.check(gone, "a previous run's row whose host did not come back is cleared")
    c1.send_signal(signal.SIGTERM)
    c1.wait(5)
    time.sleep(0.7)  # its goodbye has stood for its interval: it may make room
    c2 = subprocess.Popen([AGENT, *NET3, "--interval", "0.5", "--id", "c2", "--hostname", "c2"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(c2)
    swap = t.wait_for(lambda: (lambda r: r if "beacon/v1/lab3/hosts/c2" in r and
                               "beacon/v1/lab3/hosts/c1" not in r and HA1 not in r
                               else None)(retained("#")), 10, 0.2)
    t.check(swap is not None, "a row gone from the table (--max-hosts 1) is cleared, with "
            f"its Home Assistant config: {sorted(swap or retained('#'))}")
    s3.send_signal(signal.SIGTERM)
    s3.wait(10)
    unknown = t.wait_for(lambda: (lambda m: m[1].get(("lab2", "b1")) if m[1].get(
        ("lab2", "b1"), {}).get("status") == "unknown" else None)(merged("--all")), 10, 0.2)
    t.check(unknown is not None and "offline" in unknown["reason"],
            f"an offline site's hosts are unknown: {unknown}")
    r, only = merged("--status", "unknown")
    t.check(set(only) == {("lab2", "b1"), ("lab2", "b2"), ("lab3", "c2")} and r.returncode == 0,
            f"--status unknown: {sorted(only)}")

    # SIGKILL: the will says offline.
    serve.send_signal(signal.SIGKILL)
    err = serve.communicate(timeout=10)[1]
    t.check("connection lost; retrying" in err and "connected again; republishing" in err,
            f"the probe said the broker was lost and back: {err.strip()}")
    off = t.wait_for(lambda: retained("beacon/v1/lab1/probe").get(
        "beacon/v1/lab1/probe", {}).get("status") == "offline", 10, 0.2)
    t.check(off, "killed, its site is offline through the last will")

    # Clear errors.
    os.chmod(pwfile, 0o644)
    r = subprocess.run([PROBE, "list", "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}",
                        "--mqtt-password-file", pwfile], capture_output=True, text=True,
                       timeout=10)
    t.check(r.returncode == 1 and "readable or writable by others" in r.stderr and
            "chmod 600" in r.stderr, f"a password file others may read is refused: {r.stderr!r}")
    os.chmod(pwfile, 0o600)
    with open(pwfile, "w") as f:
        f.write("wrong\n")
    p = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h2.json"),
                          "--mqtt", f"mqtt://ops@127.0.0.1:{BROKER}", "--mqtt-password-file",
                          pwfile, "--site", "lab2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    err_lines = []
    t.reader(p.stderr, err_lines)
    said = t.wait_for(lambda: [x for _, x in list(err_lines) if "refused" in x], 10)
    p.send_signal(signal.SIGTERM)
    p.wait(10)
    err = "".join(said or [x for _, x in list(err_lines)])
    t.check("refused" in err and "password" in err, f"a wrong password says so: {err.strip()}")
    for site in ("a/b", "a+", "#", "x\x01"):
        r = subprocess.run([PROBE, "serve", *NET, "--export", "x", "--mqtt",
                            f"mqtt://127.0.0.1:{BROKER}", "--site", site],
                           capture_output=True, text=True, timeout=10)
        t.check(r.returncode == 64 and "one MQTT topic level" in r.stderr,
                f"--site {site!r} refused: {r.returncode}")
finally:
    t.stop(procs)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
