"""`ecs-watchdog render-alert` renders a stored transition, action and probes included, and refuses bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_watchdog.cli import main

STORED = Path(__file__).parents[1] / "fixtures" / "transition_opened_dry_run.json"


def test_a_stored_transition_renders_slack_email_and_attributes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render-alert", str(STORED)]) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert rendered["slack"]["blocks"][0]["text"]["text"] == "api · prod · us-east-1 · 123456789012"
    assert "StopServiceDeployment(" in rendered["email"]["body"]  # the dry-run's exact call, kept from the file
    assert "image_exists: confirmed" in rendered["email"]["body"]
    assert rendered["sns_attributes"]["severity"] == "high"


def test_a_file_that_is_not_a_transition_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x"}', encoding="utf-8")
    assert main(["render-alert", str(bad)]) == 2
    assert "render-alert" in capsys.readouterr().err
