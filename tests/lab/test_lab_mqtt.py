# SPDX-License-Identifier: MIT
"""Many LANs through one MQTT broker, in the lab: two segments that
broadcasts do not cross, each with agents and a probe publishing under its
own site, to Debian's mosquitto on a host of both segments, over TLS
(mqtts, a CA made here with openssl) with a password. A third probe, on a
host of its own, lists and watches the merged table:
  * every agent of both segments, with its site;
  * a goodbye on one segment reaches the merged view within a second
    (watch --mqtt), and so does a host joining;
  * the broker killed and started again empty, a host joining meanwhile:
    the probes republish, nothing is lost;
  * a probe killed with SIGKILL: its site's hosts are unknown (the will);
  * a CA that did not sign the broker's certificate, no CA at all (the
    system's), and a wrong password each fail with exit 1 and say why.
Root only; skips (77) elsewhere or without mosquitto and openssl."""
import json
import os
import pwd
import shutil
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
for tool in ("mosquitto", "mosquitto_passwd", "openssl"):
    if shutil.which(tool) is None:
        print(f"FAIL: {tool} is not installed (Debian's mosquitto, openssl; see the README)")
        sys.exit(1)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_tls(d, addrs):
    """A CA, the broker's certificate from it (naming ADDRS), and another
    CA that signed nothing of the broker's."""
    for ca in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", f"{d}/{ca}.key", "-out", f"{d}/{ca}.pem", "-days", "2",
                "-subj", f"/CN=beacon lab {ca} CA")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{d}/broker.key", "-out", f"{d}/broker.csr", "-subj", "/CN=broker")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=" + ",".join(f"IP:{a}" for a in addrs) + "\n")
    openssl("x509", "-req", "-in", f"{d}/broker.csr", "-CA", f"{d}/ca.pem", "-CAkey",
            f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/broker.pem", "-days", "2",
            "-extfile", f"{d}/ext")


with lablib.Lab("mq", segments=3) as lab:
    d = lab.dir
    os.chmod(d, 0o711)  # mosquitto, started as root, reads as its own user
    broker = lab.host("broker", segments=(0, 1, 2))
    p1, a1, a2 = lab.host("p1"), lab.host("a1"), lab.host("a2")
    p2, b1, b2 = (lab.host(n, segments=(1,)) for n in ("p2", "b1", "b2"))
    viewer = lab.host("viewer")
    make_tls(d, broker.addrs.values())
    # One user per site, named after it, who may write only its site; ops
    # reads everything (the README's access list).
    for i, user in enumerate(("ops", "floor1", "floor2", "branch")):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), f"{d}/passwd",
                        user, "pw-1"], check=True, capture_output=True)
    with open(f"{d}/acl", "w") as f:
        f.write("user ops\ntopic read beacon/v1/#\ntopic read homeassistant/#\n\n"
                "user branch\ntopic write beacon/v1/floor3/#\n\n"
                "pattern readwrite beacon/v1/%u/#\n"
                "pattern readwrite homeassistant/device_tracker/beacon_%u/#\n")
    m = pwd.getpwnam("mosquitto")
    for f in ("broker.key", "passwd", "acl"):
        os.chmod(f"{d}/{f}", 0o600)
        os.chown(f"{d}/{f}", m.pw_uid, m.pw_gid)
    for f in ("broker.pem", "ca.pem"):
        os.chmod(f"{d}/{f}", 0o644)
    with open(f"{d}/mosquitto.conf", "w") as f:
        f.write(f"per_listener_settings false\nallow_anonymous false\n"
                f"password_file {d}/passwd\nacl_file {d}/acl\npersistence false\n"
                f"listener 8883\ncertfile {d}/broker.pem\nkeyfile {d}/broker.key\n")
    with open(f"{d}/pw", "w") as f:
        f.write("pw-1\n")
    os.chmod(f"{d}/pw", 0o600)

    def start_broker():
        b = broker.spawn("mosquitto", "-c", f"{d}/mosquitto.conf",
                         stderr=open(f"{d}/broker.log", "a"))
        up = t.wait_for(lambda: subprocess.run(
            ["ip", "netns", "exec", viewer.ns, "python3", "-c",
             "import socket; socket.create_connection(('198.18.0.1', 8883), 1)"],
            capture_output=True).returncode == 0, 10, 0.1)
        if not up:
            with open(f"{d}/broker.log") as f:
                print(f.read())
        return b, up

    bk, up = start_broker()
    t.check(up, "the broker listens on both segments")

    def url(host, user="ops"):  # the broker's address on HOST's segment
        return f"mqtts://{user}@{broker.addrs[min(host.addrs)]}:8883"
    TLS = ["--mqtt-cafile", f"{d}/ca.pem", "--mqtt-password-file", f"{d}/pw"]
    agents = {h.name: pr.agent(h, "--id", h.name, interval="1") for h in (a1, a2, b1)}
    s1 = pr.Serve(p1, "--mqtt", url(p1, "floor1"), *TLS, "--site", "floor1",
                  "--mqtt-homeassistant")
    # This one drops to nobody before it connects: the password is read as
    # root, the CA (public, 0644) at each connection as nobody.
    s2 = pr.Serve(p2, "--mqtt", url(p2, "floor2"), *TLS, "--site", "floor2",
                  user="nobody")
    # A branch office: its own broker, bridged to the central one over TLS
    # (the README's example), its probe publishing to it in plain MQTT.
    branch, p3, c1 = (lab.host(n, segments=(2,)) for n in ("branch", "p3", "c1"))
    with open(f"{d}/branch.conf", "w") as f:
        f.write(f"per_listener_settings false\nallow_anonymous true\npersistence false\n"
                f"listener 1883 {branch.addrs[2]}\n"
                f"connection central\naddress {broker.addrs[2]}:8883\n"
                f"bridge_cafile {d}/ca.pem\nremote_username branch\nremote_password pw-1\n"
                f"topic beacon/v1/# out 1\ncleansession true\n"
                f"notifications true\nnotification_topic beacon/v1/floor3/bridge\n")
    bridged = branch.spawn("mosquitto", "-c", f"{d}/branch.conf",
                           stderr=open(f"{d}/branch.log", "a"))
    agents["c1"] = pr.agent(c1, "--id", "c1", interval="1")
    s3 = pr.Serve(p3, "--mqtt", f"mqtt://{branch.addrs[2]}", "--site", "floor3")

    def merged(*extra, cafile=f"{d}/ca.pem", pwfile=f"{d}/pw"):
        r = pr.probe_list(viewer, "--mqtt", url(viewer), "--json", "--all", "--wait", "1",
                          *(["--mqtt-cafile", cafile] if cafile else []),
                          "--mqtt-password-file", pwfile, *extra, timeout=30)
        try:
            return r, {(h["site"], h["id"]): h for h in json.loads(r.stdout)["hosts"]}
        except ValueError:
            return r, {}
    want = {("floor1", "a1"), ("floor1", "a2"), ("floor2", "b1"), ("floor3", "c1")}
    got = t.wait_for(lambda: (lambda m: m if set(m[1]) == want else None)(merged()), 20, 0.2)
    t.check(got is not None, f"a third probe lists every agent of the segments with its "
            f"site, the bridged branch's too: {sorted(merged()[1])}")
    if got:
        t.check(all(h["status"] == "alive" for h in got[1].values()), "all alive")
        t.check(b1.addrs[1] in got[1][("floor2", "b1")]["addresses"],
                f"with their addresses on their own segment: "
                f"{got[1][('floor2', 'b1')]['addresses']}")
    # Home Assistant's discovery configs, within the access list.
    r = subprocess.run(["ip", "netns", "exec", viewer.ns, "mosquitto_sub", "-h",
                        broker.addrs[0], "-p", "8883", "--cafile", f"{d}/ca.pem", "-u", "ops",
                        "-P", "pw-1", "-t", "homeassistant/#", "--retained-only", "-W", "2",
                        "-F", "%t"], capture_output=True, text=True, timeout=10)
    t.check(sorted(r.stdout.split()) == [f"homeassistant/device_tracker/beacon_floor1/{h}/config"
                                         for h in ("a1", "a2")],
            f"floor1's hosts in Home Assistant: {r.stdout.split()} {r.stderr}")
    # floor1's credentials cannot write floor2's rows (the access list).
    r = subprocess.run(["ip", "netns", "exec", viewer.ns, "mosquitto_pub", "-h",
                        broker.addrs[0], "-p", "8883", "--cafile", f"{d}/ca.pem", "-u", "floor1",
                        "-P", "pw-1", "-r", "-q", "1", "-t", "beacon/v1/floor2/hosts/evil", "-m",
                        json.dumps({"id": "evil", "status": "alive"})],
                       capture_output=True, text=True, timeout=10)
    t.check(r.returncode == 0, f"a forger with floor1's password connects: {r.stderr}")
    _, now = merged()
    t.check(("floor2", "evil") not in now and set(now) == want,
            f"but its row for floor2 is not taken: {sorted(now)}")

    # The merged view live: a JSON document per change.
    docs = []
    w = viewer.spawn(pr.PROBE, "watch", "--mqtt", url(viewer), *TLS, "--json", "--all",
                     "--wait", "0.5", stdout=subprocess.PIPE)
    t.reader(w.stdout, docs)

    def seen(site, hid, status, since):
        for stamp, line in list(docs):
            if stamp >= since and any((h["site"], h["id"], h["status"]) == (site, hid, status)
                                      for h in json.loads(line)["hosts"]):
                return stamp
        return None
    t.check(t.wait_for(lambda: seen("floor2", "b1", "alive", 0), 10) is not None,
            "watch --mqtt shows the merged table")

    def reaches(site, hid, status, t0, limit, what):
        """How long the change took to show in watch --mqtt, checked
        against LIMIT and printed."""
        when = t.wait_for(lambda: seen(site, hid, status, t0), 5, 0.01)
        took = when - t0 if when is not None else None
        t.check(took is not None and took < limit, f"{what}: {took} s (under {limit} s)")
        if took is not None:
            print(f"{what}: {took:.3f} s")
    t.check(t.wait_for(lambda: seen("floor1", "a2", "alive", 0), 10) is not None,
            "a2 in the merged view before its goodbye")
    t0 = time.monotonic()
    agents["a2"].send_signal(signal.SIGTERM)
    reaches("floor1", "a2", "left", t0, 1.0, "a goodbye on floor1 to the merged view")
    t0 = time.monotonic()
    pr.agent(b2, "--id", "b2", interval="1")
    reaches("floor2", "b2", "alive", t0, 1.5, "an agent started on floor2 to the merged view")

    # The broker dies and comes back empty; a host joins meanwhile.
    bk.send_signal(signal.SIGKILL)
    bk.wait(5)
    late = lab.host("b3", segments=(1,))
    pr.agent(late, "--id", "b3", interval="1")
    # b3 is in floor2's table while its broker is away.
    t.check(s2.wait(lambda hs: "b3" in hs, 10) is not None,
            "a host joins while the broker is down")
    t1 = time.monotonic()
    bk, up = start_broker()
    want2 = want | {("floor2", "b2"), ("floor2", "b3")}
    back = t.wait_for(lambda: (lambda m: m if set(m[1]) == want2 and m[1][("floor1", "a2")][
        "status"] == "left" else None)(merged()), 60, 0.2)
    r, now = merged()
    t.check(back is not None, f"after the broker's restart, everything is back, the host "
            f"that joined meanwhile too: {sorted(now)} {r.stderr!r}")
    if back is None:
        print(open(f"{d}/broker.log").read()[-3000:])
        print(open(s2.path + ".err").read()[-3000:])
    if back:
        print(f"everything republished {time.monotonic() - t1:.2f} s after the broker restarted")
    t.check(t.wait_for(lambda: seen("floor2", "b3", "alive", t1), 30, 0.1) is not None,
            "watch --mqtt reconnected and shows it")

    # A probe killed: its site's hosts are unknown, through its will.
    s2.proc.send_signal(signal.SIGKILL)
    unk = t.wait_for(lambda: (lambda m: m if m[1].get(("floor2", "b1"), {}).get("status") ==
                              "unknown" else None)(merged()), 10 + 30 * 1.5, 0.2)
    t.check(unk is not None and "offline" in unk[1][("floor2", "b1")]["reason"],
            "a probe killed with SIGKILL: its site's hosts are unknown")
    if unk:
        t.check(unk[1][("floor1", "a1")]["status"] == "alive", "the other site's are not")
    # The branch's broker dies: its bridge's will says so, and the branch's
    # hosts are unknown too.
    bridged.send_signal(signal.SIGKILL)
    unk = t.wait_for(lambda: (lambda m: m if m[1].get(("floor3", "c1"), {}).get("status") ==
                              "unknown" else None)(merged()), 10 + 60 * 1.5, 0.2)
    t.check(unk is not None and "bridge" in unk[1][("floor3", "c1")]["reason"],
            f"a branch whose bridge is down: its hosts are unknown: "
            f"{unk and unk[1][('floor3', 'c1')]['reason']}")

    # Clear errors.
    r, _ = merged(cafile=f"{d}/other.pem")
    t.check(r.returncode == 1 and "certificate verify failed" in r.stderr and
            "--mqtt-cafile" in r.stderr, f"a CA that did not sign the broker's: {r.stderr!r}")
    r, _ = merged(cafile=None)
    t.check(r.returncode == 1 and "certificate verify failed" in r.stderr,
            f"no --mqtt-cafile: the system's CAs do not know it: {r.stderr!r}")
    shutil.copy(f"{d}/ca.pem", f"{d}/ca-private.pem")
    os.chmod(f"{d}/ca-private.pem", 0o600)
    r, _ = merged("--user", "nobody", cafile=f"{d}/ca-private.pem")
    t.check(r.returncode == 1 and "--mqtt-cafile" in r.stderr and
            "cannot be read by the user" in r.stderr,
            f"a CA that --user cannot read is said before any try: {r.stderr!r}")
    with open(f"{d}/bad-pw", "w") as f:
        f.write("nope\n")
    os.chmod(f"{d}/bad-pw", 0o600)
    r, _ = merged(pwfile=f"{d}/bad-pw")
    t.check(r.returncode == 1 and "not authori" in r.stderr and "password" in r.stderr,
            f"a wrong password: {r.stderr!r}")
    w.send_signal(signal.SIGTERM)
    t.check(w.wait(5) == 0, "watch --mqtt ends on SIGTERM")
t.finish()
