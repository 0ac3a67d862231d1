"""Dependency audit for CI: fail on any known vulnerability in requirements.lock.

pip-audit looks each pinned version up in PyPI's vulnerability data. Where that data cannot be
reached (a registry mirror that serves packages but not the per-version JSON API), nothing can
be audited: this script then says so loudly and does not pretend the audit passed, but it does
not fail the build for the network either. A vulnerability that is found always fails it.
"""

from __future__ import annotations

import json
import subprocess
import sys

cmd = [sys.executable, "-m", "pip_audit", "-r", "requirements.lock", "--no-deps", "--disable-pip",
       "--progress-spinner", "off", "--format", "json"]
proc = subprocess.run(cmd, capture_output=True, text=True)
try:
    report = json.loads(proc.stdout)
except ValueError:
    print(proc.stdout, proc.stderr, sep="\n", file=sys.stderr)
    sys.exit(f"dependency audit: pip-audit failed (exit {proc.returncode})")
deps = report.get("dependencies", [])
vulnerable = [d for d in deps if d.get("vulns")]
skipped = [d for d in deps if d.get("skip_reason")]
for d in vulnerable:
    ids = ", ".join(v.get("id", "?") for v in d["vulns"])
    print(f"VULNERABLE: {d['name']} {d.get('version', '')}: {ids}", file=sys.stderr)
audited = len(deps) - len(skipped)
print(f"dependency audit: {audited} of {len(deps)} pinned dependencies audited, "
      f"{len(vulnerable)} with known vulnerabilities")
if skipped:
    print(f"dependency audit: NOT AUDITED ({len(skipped)}): the vulnerability data could not be "
          f"reached from here, e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']}")
sys.exit(1 if vulnerable else 0)
