# SPDX-License-Identifier: MIT
"""Every C file follows .clang-format (style(9)-like): the check fails on
any difference, so the style cannot drift."""
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
tool = shutil.which("clang-format") or shutil.which("clang-format-14")
if tool is None:
    print("FAIL: clang-format is not installed (see the README)")
    sys.exit(1)
files = sorted(f for d in ("agent", "beacon", "common", "mailslot", "probe", "tests")
               for ext in ("c", "h")
               for f in glob.glob(os.path.join(ROOT, d, "**", f"*.{ext}"), recursive=True))
bad = []
for f in files:
    with open(f) as fh:
        before = fh.read()
    after = subprocess.run([tool, f"--style=file:{os.path.join(ROOT, '.clang-format')}", f],
                           capture_output=True, text=True, check=True).stdout
    if after != before:
        bad.append(os.path.relpath(f, ROOT))
for f in bad:
    print(f"FAIL: {f} differs from .clang-format (run: clang-format -i {f})")
print(f"{len(files) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad else 0)
