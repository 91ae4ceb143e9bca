# SPDX-License-Identifier: MIT
"""The systemd units as installed (configured by CMake): each rated below
2.0 by `systemd-analyze security --offline=true` (lower is less exposed),
with DynamicUser, only CAP_NET_BIND_SERVICE, NoNewPrivileges and a system
call filter. Skips (77) where systemd-analyze is absent."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pylib"))
import testlib as t  # noqa: E402

if shutil.which("systemd-analyze") is None:
    t.skip("no systemd-analyze")
for unit in sys.argv[1:]:
    name = os.path.basename(unit)
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", unit],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
    t.check(m is not None, f"{name}: rated: {r.stdout[-200:]} {r.stderr[-200:]}")
    if m:
        print(f"{name}: exposure {m.group(1)}")
        t.check(float(m.group(1)) < 2.0, f"{name}: exposure {m.group(1)} below 2.0")
    with open(unit) as f:
        text = f.read()
    for line in ("DynamicUser=yes", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                 "NoNewPrivileges=yes", "SystemCallFilter=@system-service"):
        t.check(line in text, f"{name}: {line}")
t.finish()
