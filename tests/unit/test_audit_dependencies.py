"""The CI dependency audit says what it could not check, and fails only on a known vulnerability."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "audit_dependencies", Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"
)
assert SPEC and SPEC.loader
audit = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(audit)


def test_a_run_that_reached_no_vulnerability_service_says_so_and_passes() -> None:
    offline = {"dependencies": [{"name": "boto3", "skip_reason": "Dependency not found on PyPI: boto3 (1.40)"}]}
    lines, failed = audit.pip_findings(offline)
    assert not failed and "0 of 1" in lines[0] and "could not check 1" in lines[1]
    assert not any("no known vulnerability" in line for line in lines)
    npm_lines, npm_failed = audit.npm_findings({"message": "405 Method Not Allowed - POST https://registry..."})
    assert not npm_failed and "could not check" in npm_lines[0]


def test_a_known_vulnerability_fails_the_run_and_is_named() -> None:
    report = {"dependencies": [{"name": "urllib3", "version": "1.0", "vulns": [{"id": "GHSA-xxxx"}]}]}
    lines, failed = audit.pip_findings(report)
    assert failed and "VULNERABLE urllib3 1.0: GHSA-xxxx" in lines[1]
    npm_lines, npm_failed = audit.npm_findings({"metadata": {"vulnerabilities": {"high": 1, "total": 1}}})
    assert npm_failed and "1 high" in npm_lines[0]
