# SPDX-License-Identifier: MIT
"""serve --http with --http-auth and --http-cert/--http-key over loopback:
without the password, or with a wrong one, 401 (with a JSON body and a
Basic challenge), with it 200; /healthz stays open; HTTPS with the
certificate (a self-signed one made here with openssl); a password file
others can read is refused with the fix in the message. Skips the TLS
part without openssl."""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

PROBE = os.environ["BEACON_PROBE"]
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
tmp = tempfile.mkdtemp(prefix="beacon-https-")


def get(url, user=None, password=None, ctx=None):
    req = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


procs = []
try:
    r = subprocess.run([PROBE, "--hash-password"], input="s3cret pass\n",
                       capture_output=True, text=True, timeout=30)
    t.check(r.returncode == 0 and r.stdout.startswith("$argon2id$"),
            f"--hash-password: {r.stdout[:20]!r} {r.stderr}")
    users = os.path.join(tmp, "users")
    with open(users, "w") as f:
        f.write(f"# who may look\nops {r.stdout.strip()}\n")
    os.chmod(users, 0o600)
    tls = shutil.which("openssl") is not None
    args = ["--http-auth", users]
    if tls:
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        os.chmod(key, 0o600)
        args += ["--http-cert", cert, "--http-key", key]
    port = t.tcp_port()
    serve = subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                              "--http", f"127.0.0.1:{port}", *args],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    procs.append(serve)
    base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    ctx = ssl.create_default_context(cafile=cert) if tls else None
    t.check(t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, 5),
            "it listens")
    code, hdr, body = get(base + "/v1/hosts", ctx=ctx)
    t.check(code == 401 and "Basic" in hdr.get("WWW-Authenticate", "") and
            json.loads(body).get("status") == 401, f"no password: 401 {code} {hdr}")
    code, _, _ = get(base + "/v1/hosts", "ops", "wrong", ctx)
    t.check(code == 401, f"a wrong password: {code}")
    code, _, _ = get(base + "/v1/hosts", "nobody", "s3cret pass", ctx)
    t.check(code == 401, f"a user not in the file: {code}")
    for path in ("/v1/hosts", "/metrics", "/"):
        code, _, _ = get(base + path, "ops", "s3cret pass", ctx)
        t.check(code == 200, f"{path} with the password: {code}")
    code, _, body = get(base + "/healthz", ctx=ctx)
    t.check(code == 200 and body == b"ok\n", f"/healthz needs none: {code}")
    if tls:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
                plain = s.recv(100)
        except OSError:
            plain = b""
        t.check(not plain.startswith(b"HTTP/1."), f"plain HTTP gets no answer: {plain[:20]!r}")
    else:
        print("no openssl: the TLS part is skipped")
    serve.send_signal(signal.SIGTERM)
    serve.wait(10)
    os.chmod(users, 0o644)
    r = subprocess.run([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                        "--http", f"127.0.0.1:{t.tcp_port()}", "--http-auth", users],
                       capture_output=True, text=True, timeout=10)
    t.check(r.returncode == 1 and "chmod 600" in r.stderr,
            f"a password file others can read is refused: {r.stderr.strip()}")
    r = subprocess.run([PROBE, "serve", *NET, "--export", "x", "--http-auth", users],
                       capture_output=True, text=True, timeout=10)
    t.check(r.returncode == 64 and "go with --http" in r.stderr, f"--http-auth alone: {r.stderr}")
finally:
    t.stop(procs)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
