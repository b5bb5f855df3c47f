"""Lambda lifecycle hooks replayed with a watchdog: the invocation reaches the watchdog's hook function (a
stand-in here; the real one in the scenario replay, marked slow), and its answer holds or rolls back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.seam import SentMessage

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
NAME = "gate-lambda-image-never-pushed"
SERVICE = "cart"


class AnswersFailed:
    """A watchdog whose hook function fails every deployment it is asked about; it handles no events."""

    def __init__(self, *_: object) -> None:
        self.payloads: list[dict[str, Any]] = []

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        pass

    def messages(self) -> list[SentMessage]:
        return []

    def answer_lifecycle_hook(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.payloads.append(payload)
        return {"hookStatus": "FAILED"}


def test_the_runner_hands_the_invocation_to_the_watchdogs_hook_function_and_lists_its_answer() -> None:
    made: list[AnswersFailed] = []

    def factory(*args: object) -> AnswersFailed:
        made.append(AnswersFailed(*args))
        return made[-1]

    result = runner.run_scenario(load_scenario(SCENARIOS / f"{NAME}.json"), "watchdog", factory)
    cart = result["services"][SERVICE]
    (watchdog,) = made
    assert [p["lifecycleStage"] for p in watchdog.payloads] == ["PRE_SCALE_UP"]
    assert cart["failed_tasks_total"] == 0 and cart["containment"]["failed_tasks_before"] == 0
    (answer,) = cart["actions"]
    assert answer["action"] == "lambda_hook_answer" and answer["detail"].startswith("FAILED: ")
    # No event of the service had reached the watchdog yet: the hook answered before any could cross a threshold.
    assert cart["event_to_action_seconds"] is None


@pytest.mark.slow
def test_the_real_hook_function_holds_the_deployment_until_the_preflight_rolls_it_back_with_0_failed_tasks() -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / f"{NAME}.json"), "watchdog")
    cart = result["services"][SERVICE]
    assert cart["failed_tasks_total"] == 0 and cart["containment"]["failed_tasks_before"] == 0
    # Both at minute 5, when the deployment began: the hook answered IN_PROGRESS at PRE_SCALE_UP (the preflight
    # had not run yet), and the deployment event, handed over at once (the stack's default: no batching window),
    # brought the preflight's rollback in the same instant.
    assert sorted((a["minute"], a["action"], a["detail"].split(":")[0]) for a in cart["actions"]) == [
        (5.0, "lambda_hook_answer", "IN_PROGRESS"),
        (5.0, "stop_service_deployment", "ecs-svc/6194702546557707203 (cart"),
    ]
    assert cart["right_cause"] is True and cart["final"]["running_revision"] == 7
    assert cart["event_to_action_seconds"] == 0.0


@pytest.mark.slow
def test_in_dry_run_the_real_hook_function_lets_the_deployment_through_at_once() -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / f"{NAME}.json"), "watchdog-dry-run")
    cart = result["services"][SERVICE]
    answers = [a["detail"].split(":")[0] for a in cart["actions"] if a["action"] == "lambda_hook_answer"]
    assert answers == ["SUCCEEDED"] and cart["failed_tasks_total"] > 10
