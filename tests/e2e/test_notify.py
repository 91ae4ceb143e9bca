# SPDX-License-Identifier: MIT
"""serve --notify URL over loopback, with a webhook receiver of the test's
own (127.0.0.1): the chosen events POSTed as JSON, in order, each once;
while the receiver is down they wait and are retried with back-off, then
delivered once it is back; a 4xx refusal is given up, not retried; the
slack format; bad options refused with the cause. The URL's path (where a
webhook keeps its secret) never reaches the log."""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
HTTP = f"127.0.0.1:{t.tcp_port()}"
HOOK = t.tcp_port()
got = []  # (path, content type, body)
lock = threading.Lock()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            got.append((self.path, self.headers.get("Content-Type"), body.decode()))
        self.send_response(400 if self.path == "/refuse" else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


def receiver():
    srv = http.server.HTTPServer(("127.0.0.1", HOOK), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def posted(path):
    with lock:
        return [(json.loads(b)["event"], json.loads(b)["id"]) for p, _, b in got if p == path]


tmp = tempfile.mkdtemp(prefix="beacon-notify-")
procs = []


def agent(ident):
    p = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", ident, "--hostname", ident],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def serve(*extra):
    p = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "t.json"),
                          "--db", os.path.join(tmp, "b.db"), *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(p)
    return p


try:
    for bad, why in ((["--notify", "ftp://127.0.0.1/x"], "http:// or https://"),
                     (["--notify", f"http://127.0.0.1:{HOOK}/", "--notify-events", "join,nope"],
                      "event is"),
                     (["--notify", f"http://127.0.0.1:{HOOK}/", "--notify-format", "xml"],
                      "json, text, slack or gotify")):
        r = subprocess.run([PROBE, "serve", *NET, "--export", os.path.join(tmp, "x.json"), *bad],
                           capture_output=True, text=True, timeout=10)
        t.check(r.returncode == 64 and why in r.stderr,
                f"{bad[-1]}: refused ({r.stderr.strip()!r})")

    srv = receiver()
    s = serve("--http", HTTP, "--notify", f"http://127.0.0.1:{HOOK}/hook/s3cret",
              "--notify", f"http://127.0.0.1:{HOOK}/refuse", "--notify-events", "new,leave")
    a1 = agent("n1")
    t.check(t.wait_for(lambda: posted("/hook/s3cret") == [("new", "n1")], 10),
            f"n1's new POSTed: {posted('/hook/s3cret')}")
    with lock:
        t.check(got[0][1] == "application/json", f"as JSON: {got[0][1]}")
    t.check(t.wait_for(lambda: t.metric(HTTP, "beacon_notify_refused_total") == 1, 5),
            "a 400 is given up at once")
    a1.terminate()
    a1.wait(10)
    t.check(t.wait_for(lambda: posted("/hook/s3cret") == [("new", "n1"), ("leave", "n1")], 10),
            "then its leave, in order")

    # The receiver down: the events wait and are tried again; back, they
    # come once each.
    srv.shutdown()
    srv.server_close()
    agent("n2")
    t.check(t.wait_for(lambda: (t.metric(HTTP, "beacon_notify_failed_total") or 0) >= 1 and
                       (t.metric(HTTP, "beacon_notify_waiting") or 0) >= 1, 10),
            "the receiver down: tried, and the events wait")
    srv = receiver()
    t.check(t.wait_for(lambda: ("new", "n2") in posted("/hook/s3cret"), 15),
            "back: the waiting event delivered")
    t.check(t.wait_for(lambda: t.metric(HTTP, "beacon_notify_waiting") == 0, 5) and
            posted("/hook/s3cret").count(("new", "n2")) == 1, "once")
    refused = posted("/refuse")
    t.check(len(refused) == len(set(refused)) ==
            t.metric(HTTP, "beacon_notify_refused_total") == 3,
            f"each event the receiver refused was given up, not tried again: {refused}")
    s.terminate()
    _, err = s.communicate(timeout=10)
    t.check("s3cret" not in err and "tried again with back-off" in err and
            "delivered again" in err,
            f"the log says down and back, without the URL's path: {err.strip()!r}")

    # The slack format.
    with lock:
        got.clear()
    s = serve("--notify", f"http://127.0.0.1:{HOOK}/slack", "--notify-format", "slack",
              "--notify-events", "join")
    agent("n3")
    t.check(t.wait_for(lambda: any(p == "/slack" for p, _, _ in got), 10), "slack: POSTed")
    with lock:
        body = json.loads(next(b for p, _, b in got if p == "/slack"))
    t.check(list(body) == ["text"] and "n3 join" in body["text"], f"as {{\"text\"}}: {body}")
    srv.shutdown()
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
