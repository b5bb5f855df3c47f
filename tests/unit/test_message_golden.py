"""Golden files: the exact Slack payload, email subject, body and SNS attributes of every incident kind and
transition. A change to a message shows up as a reviewable diff of tests/fixtures/golden/.

Regenerate after an intended change with `UPDATE_GOLDEN=1 scripts/run.sh pytest tests/unit/test_message_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ecs_watchdog.announce.render import render_transition_slack, render_transition_sns, sns_attributes
from tests.unit.announce_fixtures import REF, all_cases

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"
RUNBOOK_BASE = "https://git.example.org/ecs-watchdog/blob/main"


def rendered_by_kind() -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for name, transition in all_cases().items():
        kind, _, moment = name.partition("-")
        email = render_transition_sns(transition, REF, RUNBOOK_BASE)
        files.setdefault(kind, {})[moment] = {
            "slack": render_transition_slack(transition, REF, RUNBOOK_BASE),
            "email": {"subject": email.subject, "body": email.body.splitlines()},
            "sns_attributes": sns_attributes(transition, REF),
        }
    return files


RENDERED = rendered_by_kind()


@pytest.mark.parametrize("kind", sorted(RENDERED))
def test_messages_match_the_golden_file(kind: str) -> None:
    path = GOLDEN / f"{kind}.json"
    text = json.dumps(RENDERED[kind], indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path.name} differs: regenerate with UPDATE_GOLDEN=1 if intended"


def test_every_golden_file_is_still_produced() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(RENDERED)
