"""The storm's verdicts: a service the account incident spoke for was told the right cause, not "no"."""

from __future__ import annotations

import json
from pathlib import Path

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.scenario import parse_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def test_services_the_account_incident_spoke_for_have_the_right_cause() -> None:
    # 7 services crash together: 4 announce their own incidents, then the account incident speaks for the rest.
    document = json.loads((SCENARIOS / "storm-20-services.json").read_text())
    document["services"][0]["copies"] = 7
    document["horizon_minutes"] = 6
    result = runner.run_scenario(parse_scenario(document, "small-storm"), "watchdog")
    subjects = [n["text"].split("\n")[0] for n in result["notifications"] if n["channel"] == "sns"]
    assert any("Many services failing at once" in s for s in subjects)
    spoken_for = [name for name in result["services"] if not any(f"/{name}:" in s for s in subjects)]
    assert spoken_for  # some services were never announced one by one
    assert all(s["right_cause"] is True for s in result["services"].values())
