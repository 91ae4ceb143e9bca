# SPDX-License-Identifier: MIT
"""Headless Chromium driven over the DevTools protocol through a pipe
(--remote-debugging-pipe: NUL-separated JSON on fds 3 and 4), so a test
needs Debian's chromium and nothing else: no npm, no websocket library."""
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


class Browser:
    def __init__(self):
        exe = shutil.which("chromium")
        if exe is None:
            raise FileNotFoundError("chromium")
        r3, self.w = os.pipe()
        self.r, w4 = os.pipe()
        a, b = os.dup(r3), os.dup(w4)
        self.profile = tempfile.mkdtemp(prefix="beacon-chromium-")
        flags = ["--headless=new", "--disable-gpu", "--no-first-run",
                 "--disable-dev-shm-usage",  # a container's /dev/shm is small
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-pings", "--disable-domain-reliability",
                 "--no-default-browser-check", "--remote-debugging-pipe",
                 f"--user-data-dir={self.profile}", "--window-size=1200,700"]
        if os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses root otherwise
        cmd = " ".join([exe, *flags, "about:blank"])
        self.proc = subprocess.Popen(
            ["sh", "-c", f"exec {cmd} 3<&{a} 4>&{b} {a}<&- {b}>&-"],
            pass_fds=(a, b), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (r3, w4, a, b):
            os.close(fd)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def call(self, method, params=None, session=None, timeout=15):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                m = json.loads(raw)
                if m.get("id") == self.next_id:
                    if "error" in m:
                        raise RuntimeError(f"{method}: {m['error']}")
                    return m.get("result", {})
                if "method" in m:
                    self.events.append(m)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]:
                raise TimeoutError(method)
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise EOFError("chromium went away")
            self.buf += chunk

    def open(self, url):
        """A new page at url; its session id."""
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        s = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        session = s["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Runtime.enable", session=session)
        return session

    def eval(self, session, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True}, session)
        if "exceptionDetails" in r:
            raise RuntimeError(r["exceptionDetails"].get("text", "exception"))
        return r["result"].get("value")

    def screenshot(self, session, path):
        import base64
        data = self.call("Page.captureScreenshot", {"format": "png"}, session)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, TimeoutError, EOFError, RuntimeError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.r, self.w):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)
