"""The README's first quickstart command works and shows what people would receive."""

from __future__ import annotations

import subprocess
import sys


def test_demo_prints_the_finding_and_the_exact_slack_and_sns_messages():
    done = subprocess.run(
        [sys.executable, "-m", "ecs_watchdog.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "ava-olo-production/agricultural-core: Image tag or repository not found" in out
    assert "-- Slack webhook payload (exactly as posted) --" in out
    assert "Subject: [ecs-watchdog] ava-olo-production/agricultural-core" in out
    assert "messages to Slack: 2, to SNS: 2" in out
