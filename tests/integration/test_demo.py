"""The README's first quickstart command works and shows what people would receive."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_compares_the_policies_and_prints_the_exact_messages():
    done = subprocess.run(
        [sys.executable, "-m", "ecs_watchdog.cli", "demo"], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for line in (
        "seed-000-webhook-crash-loop",
        "seed-004-clarity-alb-health-checks",
        "circuit-breaker-best",
        "under 5 policies (none, circuit-breaker, circuit-breaker-best, circuit-breaker-count-1, watchdog)",
        "ecs-watchdog replay --policy watchdog-dry-run",  # where the dry-run policy is
    ):
        assert line in out
    assert done.stderr.count("\x1b[") == 0  # no progress drawn: stdout is a pipe
    assert "Subject: [ecs-watchdog] OPENED AND CONTAINED ava-olo-production/agricultural-core" in out
    assert "-- Slack webhook payload at minute" in out
    assert "agricultural-core:v3.3.2 is not in the repository" in out  # the preflight, before any task failed
    # moto has no IAM SimulatePrincipalPolicy: the sandbox says so in words, never moto's NotImplemented text.
    assert "has not been implemented" not in out + done.stderr
    assert "secret_access: cannot_check - SimulatePrincipalPolicy: OfflineSandbox: the offline sandbox cannot" in out
