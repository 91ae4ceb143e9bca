# SPDX-License-Identifier: MIT
"""serve --http over loopback: /v1/hosts is the --json document (validated
against the schema), with the list's filters as parameters; /v1/hosts/ID
one host or a 404 with a JSON body; /metrics Prometheus text (promtool
checks it where installed) that follows a leave; /healthz; 404, 405 and
400 with JSON bodies; no-store everywhere; a tag holding HTML stays data;
oversized headers and more connections than allowed are refused and the
probe goes on answering. A request with a body gets a whole answer (405
after the body is read, on a connection that goes on; 413 beyond 4096
bytes or for chunks); HEAD /v1/events has GET's head; %00 in the URL is
400; /metrics counts dropped event streams."""
import http.client
import json
import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

from jsonschema import Draft202012Validator  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
with open(os.path.join(ROOT, "schema", "table.schema.json")) as f:
    table_schema = json.load(f)
validator = Draft202012Validator(table_schema)
XSS = "<img src=x onerror=alert(1)>"


HTTP = f"127.0.0.1:{t.tcp_port()}"
BASE = f"http://{HTTP}"


def get(path, method="GET"):
    req = urllib.request.Request(BASE + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


tmp = tempfile.mkdtemp(prefix="beacon-http-")
procs = []
try:
    web = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "web", "--hostname", "web",
                            "--tag", "role=web", "--tag", f"note={XSS}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = subprocess.Popen([AGENT, *NET, "--interval", "0.5", "--id", "db", "--hostname", "db",
                           "--tag", "role=db"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                              "--http", HTTP, "--all"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs += [web, db, serve]

    def both():
        try:
            code, _, body = get("/v1/hosts")
        except OSError:
            return None
        d = json.loads(body) if code == 200 else {}
        return d if {h["id"] for h in d.get("hosts", [])} >= {"web", "db"} else None
    doc = t.wait_for(both, 10)
    t.check(doc is not None, "GET /v1/hosts lists both agents")
    if doc:
        errs = [e.message for e in validator.iter_errors(doc)]
        t.check(not errs, f"and validates against table.schema.json: {errs[:2]}")
        web_row = next(h for h in doc["hosts"] if h["id"] == "web")
        t.check(web_row["tags"]["note"] == XSS, "a tag holding HTML is data, as sent")
    code, hdr, body = get("/v1/hosts?status=alive&tag=role=web")
    ids = [h["id"] for h in json.loads(body)["hosts"]] if code == 200 else []
    t.check(ids == ["web"], f"filters as parameters: {code} {ids}")
    t.check(hdr.get("Content-Type") == "application/json" and
            hdr.get("Cache-Control") == "no-store", f"JSON, not cached: {hdr}")
    code, hdr, body = get("/v1/hosts/db")
    one = json.loads(body) if code == 200 else {}
    t.check(code == 200 and one.get("id") == "db" and one.get("tags") == {"role": "db"},
            f"GET /v1/hosts/db: {code} {body[:80]!r}")
    sub = dict(table_schema, **{"$ref": "#/$defs/host"})
    for k in ("required", "properties", "additionalProperties", "type"):
        sub.pop(k, None)
    errs = [e.message for e in Draft202012Validator(sub).iter_errors(one)]
    t.check(not errs, f"one host validates as a host: {errs[:2]}")
    for path, method, want in (("/v1/hosts/nope", "GET", 404), ("/nowhere", "GET", 404),
                               ("/v1/hosts", "POST", 405), ("/v1/hosts", "DELETE", 405),
                               ("/v1/hosts?status=bogus", "GET", 400),
                               ("/v1/hosts?bogus=1", "GET", 400)):
        code, hdr, body = get(path, method)
        try:
            err = json.loads(body)
        except ValueError:
            err = {}
        t.check(code == want and err.get("status") == want and "error" in err and
                hdr.get("Cache-Control") == "no-store",
                f"{method} {path}: {code} {body[:60]!r}")
        if want == 405:
            t.check(hdr.get("Allow") == "GET, HEAD", f"405 says what is allowed: {hdr}")
    # Bodies: none of ours takes one, each gets a whole JSON answer.
    def json_error(r, want):
        body = r.read()
        try:
            err = json.loads(body)
        except ValueError:
            err = {}
        return (r.status == want and err.get("status") == want and "error" in err and
                r.getheader("Cache-Control") == "no-store" and
                r.getheader("Content-Type") == "application/json")
    conn = http.client.HTTPConnection(*HTTP.split(":"), timeout=10)
    try:
        conn.request("POST", "/v1/hosts", body=b"x=1",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = conn.getresponse()
        t.check(json_error(r, 405) and r.getheader("Allow") == "GET, HEAD",
                f"POST with a body: 405 with its JSON ({r.status})")
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        t.check(r.status == 200 and r.read() == b"ok\n",
                "the body was read: the connection answers the next request")
    except (OSError, http.client.HTTPException) as e:
        t.check(False, f"POST with a body: no answer ({e!r})")
    finally:
        conn.close()
    for name, head, body in (
            ("100000 bytes announced", {"Content-Length": "100000"}, b"x" * 1000),
            ("chunks", {"Transfer-Encoding": "chunked"}, b"3\r\nx=1\r\n0\r\n\r\n")):
        conn = http.client.HTTPConnection(*HTTP.split(":"), timeout=10)
        try:
            conn.putrequest("PUT", "/v1/hosts")
            for k, v in head.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            r = conn.getresponse()
            t.check(json_error(r, 413), f"a body of {name}: 413 with its JSON ({r.status})")
        except (OSError, http.client.HTTPException) as e:
            t.check(False, f"a body of {name}: no answer ({e!r})")
        finally:
            conn.close()
    code, hdr, _ = get("/v1/events", "HEAD")
    t.check(code == 200 and hdr.get("Content-Type") == "text/event-stream" and
            hdr.get("Cache-Control") == "no-store", f"HEAD /v1/events: GET's head ({code} {hdr})")
    for path in ("/v1/hosts?status=alive%00x", "/v1/hosts?tag=role=web%00x",
                 "/v1/hosts/web%00x"):
        code, hdr, body = get(path)
        t.check(code == 400 and hdr.get("Cache-Control") == "no-store" and
                b'"error"' in body, f"{path}: 400, not cut at the NUL ({code})")

    # The page: built in, nothing from elsewhere, data only as text.
    code, hdr, body = get("/")
    page = body.decode()
    t.check(code == 200 and hdr["Content-Type"] == "text/html; charset=utf-8" and
            "default-src 'none'" in hdr.get("Content-Security-Policy", "") and
            "frame-ancestors 'none'" in hdr.get("Content-Security-Policy", ""),
            f"GET /: the page, under a strict CSP: {code} {hdr}")
    t.check("http://" not in page and "https://" not in page and " src=" not in page,
            "it loads nothing from elsewhere")
    t.check(all(bad not in page for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML",
                                            "document.write")),
            "and never inserts network data as HTML")
    t.check('new EventSource("/v1/events")' in page, "it follows /v1/events")
    node = shutil.which("node")
    if node:  # its script parses (node is not required: this check is extra)
        js = os.path.join(tmp, "page.js")
        with open(js, "w") as f:
            f.write(page.split("<script>", 1)[1].split("</script>", 1)[0])
        r = subprocess.run([node, "--check", js], capture_output=True, text=True, timeout=30)
        t.check(r.returncode == 0, f"the page's script parses: {r.stderr[:300]}")
    code, hdr, body = get("/healthz")
    t.check(code == 200 and body == b"ok\n" and hdr["Content-Type"].startswith("text/plain"),
            f"/healthz: {code} {body!r}")

    # Metrics, before and after db leaves.
    def metrics():
        code, hdr, body = get("/metrics")
        t.check(code == 200 and hdr["Content-Type"].startswith("text/plain; version=0.0.4"),
                f"/metrics: {code} {hdr.get('Content-Type')}")
        return body.decode()
    m = metrics()
    t.check('beacon_host_up{id="db",hostname="db",kind="beacon"} 1' in m, "db is up")
    t.check('beacon_dropped_total{reason="beacon_json"} ' in m, "drops by reason")
    t.check("\n# TYPE beacon_http_events_dropped_total counter\n"
            "beacon_http_events_dropped_total 0\n" in m,
            "dropped event streams counted (none yet)")
    t.check('beacon_host_tag{id="web",key="role",value="web"} 1' in m and
            'beacon_host_tag{id="web",key="note",value="' + XSS + '"} 1' in m,
            "tags as samples to join on")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=m, capture_output=True,
                           text=True, timeout=30)
        t.check(r.returncode == 0, f"promtool check metrics: {r.stdout} {r.stderr}")
    else:
        print("promtool is not installed (Debian's prometheus): checked by hand only")
        lines = [l for l in m.splitlines() if l and not l.startswith("#")]
        typed = {l.split()[2] for l in m.splitlines() if l.startswith("# TYPE")}
        t.check(all(l.split("{")[0].split()[0] in typed for l in lines),
                "every sample has its TYPE")
    db.send_signal(signal.SIGTERM)
    db.wait(10)
    t.check(t.wait_for(lambda: 'beacon_host_up{id="db",hostname="db",kind="beacon"} 0'
                       in metrics(), 5), "db's goodbye: up 0")

    # Abuse: huge headers, then more connections than one address may have.
    with socket.create_connection(("127.0.0.1", int(HTTP.split(":")[1])), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
        try:
            answer = s.recv(200)
        except OSError:
            answer = b""
    t.check(answer == b"" or b" 431 " in answer.split(b"\r\n")[0] or
            b" 413 " in answer.split(b"\r\n")[0],
            f"40 KB of headers refused: {answer[:40]!r}")
    idle = []
    for _ in range(24):
        try:
            idle.append(socket.create_connection(("127.0.0.1", int(HTTP.split(":")[1])),
                                                 timeout=5))
        except OSError:
            break
    try:
        code = get("/healthz")[0]
    except OSError:
        code = 0
    t.check(len(idle) == 24 and code == 0,
            f"16 connections from one address at most: the next is closed ({code})")
    for s in idle:
        s.close()
    def healthy():
        try:
            return get("/healthz")[0] == 200
        except OSError:
            return False  # the server has not seen them go yet
    t.check(t.wait_for(healthy, 5), "they go, it answers again")
    t.check(serve.poll() is None, "the probe is still running")
finally:
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
