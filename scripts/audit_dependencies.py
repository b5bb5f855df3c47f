"""Dependency audit for CI: pip-audit over the installed Python environment (the Lambda bundle's and the
development requirements) and npm audit over the CDK toolchain.

Where the vulnerability services answer, a known vulnerability fails the run (exit 1). Where they cannot
be reached — machines without internet access — it says so, per package or per tool, and passes: a run
that could not check never claims it found nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 120


def pip_findings(report: dict[str, Any]) -> tuple[list[str], bool]:
    """pip-audit's JSON report in a few lines; True when a known vulnerability was found."""
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    checked = len(dependencies) - len(skipped)
    lines = [f"pip-audit: {checked} of {len(dependencies)} Python packages checked"]
    for dependency in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in dependency["vulns"])
        lines.append(f"  VULNERABLE {dependency['name']} {dependency.get('version', '')}: {ids}")
    if skipped:
        lines.append(
            f"  could not check {len(skipped)} (the vulnerability service did not know them or did not answer), "
            f"e.g. {skipped[0]['skip_reason']}"
        )
    if not vulnerable and checked:
        lines.append("  no known vulnerability in the packages checked")
    return lines, bool(vulnerable)


def npm_findings(report: dict[str, Any]) -> tuple[list[str], bool]:
    """npm audit's JSON report in a line or two; True when a known vulnerability was found."""
    if "metadata" not in report:
        why = report.get("message") or report.get("error", {}).get("summary") or "no audit report"
        return [f"npm audit: could not check the CDK toolchain ({str(why)[:160]})"], False
    counts = report["metadata"].get("vulnerabilities", {})
    found = {level: n for level, n in counts.items() if level != "total" and n}
    if not found:
        return ["npm audit: no known vulnerability in the CDK toolchain"], False
    return [f"npm audit: VULNERABLE: {', '.join(f'{n} {level}' for level, n in sorted(found.items()))}"], True


def _run_json(command: list[str]) -> dict[str, Any]:
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False)
        return json.loads(done.stdout or "{}")
    except (subprocess.TimeoutExpired, json.JSONDecodeError, OSError) as error:
        return {"message": f"{type(error).__name__}: {error}"}


def main() -> int:
    pip_audit = shutil.which("pip-audit")
    pip = (
        _run_json([pip_audit, "--local", "--format", "json", "--timeout", "10", "--progress-spinner", "off"])
        if pip_audit
        else {}
    )
    lines, pip_vulnerable = pip_findings(pip) if pip_audit else (["pip-audit: not installed, nothing checked"], False)
    npm = shutil.which("npm")
    npm_lines, npm_vulnerable = (
        npm_findings(_run_json([npm, "audit", "--json"])) if npm else (["npm audit: npm not found"], False)
    )
    print("\n".join(lines + npm_lines))
    return 1 if pip_vulnerable or npm_vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
