# SPDX-License-Identifier: MIT
"""The web page in a real browser (Debian's headless Chromium, over the
DevTools protocol): with three agents and serve --http on loopback, the
page shows them live, marks one left within a second of its goodbye,
filters, sorts, opens a host's details (with its last events from the
history, serve --db), marks hosts new to the history, and shows a tag
holding HTML as text without making an element of it. Keeps a screenshot in ARTIFACTS.
Prints the page's load time and the delay from a goodbye to the page.
Everything runs in a network namespace of the test's own (root); skips
(77) without root or chromium."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

if shutil.which("chromium") is None:
    t.skip("no chromium (Debian's chromium package)")
# A browser talks to the Internet on its own (updates, safe browsing): it
# runs, with the agents and the probe, in a network namespace of the
# test's own with only a loopback.
if os.environ.get("BEACON_BROWSER_NS") != "1":
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        t.skip("needs root for a network namespace of its own")
    r = subprocess.run(["unshare", "--net", sys.executable, __file__],
                       env=dict(os.environ, BEACON_BROWSER_NS="1"), timeout=120)
    sys.exit(r.returncode)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
import cdp  # noqa: E402

AGENT = os.environ["BEACON_AGENT"]
PROBE = os.environ["BEACON_PROBE"]
ARTIFACTS = os.environ.get("ARTIFACTS", tempfile.gettempdir())
NET = ["--port", str(t.free_port()), "--broadcast", "127.255.255.255"]
XSS = "<img src=x onerror=alert(1)>"
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    HTTP = f"127.0.0.1:{s.getsockname()[1]}"

tmp = tempfile.mkdtemp(prefix="beacon-browser-")
procs = []
browser = None
figures = {}
try:
    agents = {}
    for name, tag in (("alpha", "role=web"), ("bravo", "role=db"), ("charlie", f"note={XSS}")):
        agents[name] = subprocess.Popen([AGENT, *NET, "--interval", "1", "--id", name,
                                         "--hostname", name, "--tag", tag],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(agents[name])
    procs.append(subprocess.Popen([PROBE, "serve", *NET, "--export", os.path.join(tmp, "h.json"),
                                   "--http", HTTP, "--db", os.path.join(tmp, "h.db")],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL))
    t.check(t.wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", int(HTTP.split(":")[1])))
                       == 0, 5), "the probe serves")
    # The agents' first beacons: a table to show.
    t.check(t.wait_for(lambda: len(json.load(urllib.request.urlopen(
        f"http://{HTTP}/v1/hosts", timeout=5))["hosts"]) == 3, 10), "the probe has the three")
    browser = cdp.Browser()
    t0 = time.monotonic()
    page = browser.open(f"http://{HTTP}/")
    rows = "document.querySelectorAll('#rows tr.host').length"
    shown = t.wait_for(lambda: browser.eval(page, rows) == 3, 10)
    figures["page_live_s"] = round(time.monotonic() - t0, 3)
    t.check(shown, f"the page shows the three agents: {browser.eval(page, rows)}")
    figures["load_event_ms"] = browser.eval(
        page, "Math.round(performance.getEntriesByType('navigation')[0].loadEventEnd)")
    t.check(browser.eval(page, "document.getElementById('state').textContent") == "live",
            "it says it is live")

    # A goodbye reaches the page within a second.
    status = ("[...document.querySelectorAll('#rows tr.host')].find(r => r.dataset.id == "
              "'bravo').querySelector('.s').textContent")
    t1 = time.monotonic()
    agents["bravo"].send_signal(signal.SIGTERM)
    left = t.wait_for(lambda: browser.eval(page, status) == "left", 5, 0.01)
    figures["goodbye_to_page_s"] = round(time.monotonic() - t1, 3)
    t.check(left and figures["goodbye_to_page_s"] < 1.0,
            f"bravo shown left {figures['goodbye_to_page_s']} s after its goodbye")
    t.check(browser.eval(page, rows) == 3, "and stays in its row, as in list --all")

    # HTML in a tag is text: no element made, the text shown as sent.
    t.check(browser.eval(page, "document.querySelectorAll('img').length") == 0,
            "a tag holding <img ...> makes no element")
    t.check(XSS in browser.eval(page, "document.getElementById('rows').textContent"),
            "and is shown as text")
    t.check(not any(e["method"] == "Page.javascriptDialogOpening" for e in browser.events),
            "no script of it ran")

    # Filter, sort, details.
    browser.eval(page, "const f = document.getElementById('filter'); f.value = 'role=web';"
                       "f.dispatchEvent(new Event('input')); 0")
    t.check(browser.eval(page, rows) == 1, "the filter box keeps role=web only")
    browser.eval(page, "const g = document.getElementById('filter'); g.value = '';"
                       "g.dispatchEvent(new Event('input')); 0")
    browser.eval(page, "document.querySelector('th[data-k=hostname]').click(); 0")
    names = browser.eval(page, "[...document.querySelectorAll('#rows tr.host')]"
                               ".map(r => r.dataset.id).join(',')")
    t.check(names == "charlie,bravo,alpha", f"sorted by hostname, descending: {names}")
    browser.eval(page, "document.querySelector('#rows tr.host').click(); 0")
    detail = browser.eval(page, "document.querySelector('#rows tr.detail')?.textContent || ''")
    t.check("reason" in detail and "restarts" in detail and "loss" in detail,
            f"a click opens the host's details: {detail[:80]!r}")
    # With the history (--db): its last events in the details, and every
    # host marked new (first seen within a day).
    events = "document.querySelector('#rows tr.detail ol.events')?.textContent || ''"
    t.check(t.wait_for(lambda: "join: first beacon" in browser.eval(page, events), 5),
            f"the details list its last events: {browser.eval(page, events)[:120]!r}")
    t.check(browser.eval(page, "document.querySelectorAll('#rows span.new').length") == 3,
            "the three are marked new")
    # The measured loss, then the estimate as an estimate (a young host's is
    # mostly its link's prior), never the prior as if measured.
    t.check(re.search(r"loss\d+ of \d+ lost.*; estimated \d+\.\d%", detail) is not None,
            f"the loss, measured and estimated: {detail!r}")
    browser.eval(page, "document.querySelector('th[data-k=hostname]').click(); 0")
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "page.png")
    browser.screenshot(page, shot)
    t.check(os.path.getsize(shot) > 1000, f"a screenshot kept: {shot}")
    print("figures:", figures)
finally:
    if browser is not None:
        browser.close()
    t.stop(procs, term=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.finish()
