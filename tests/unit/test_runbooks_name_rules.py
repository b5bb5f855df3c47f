"""Each runbook names the rules that lead to it, so an operator reading an alert finds the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_watchdog.classify.rules import default_rules

RUNBOOKS = Path(__file__).resolve().parents[2] / "docs" / "runbooks"


@pytest.mark.parametrize("rule", default_rules(), ids=lambda r: r.id)
def test_the_runbook_of_each_rule_names_it(rule):
    assert f"`{rule.id}`" in (RUNBOOKS / f"{rule.category}.md").read_text()
