"""The replay's second figure (issue 23): good deployments rolled back. A revision whose launches fail
only by chance completes when nothing intervenes; the breaker at COUNT 1 rolls it back at the first failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_watchdog.replay.runner import run_scenario
from ecs_watchdog.replay.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
TRANSIENT = ("benign-transient-db-warming", "benign-transient-migration-lock")


@pytest.mark.parametrize("name", TRANSIENT)
def test_a_deployment_with_transient_start_up_failures_completes_when_nothing_intervenes(name: str) -> None:
    (service,) = run_scenario(load_scenario(SCENARIOS / f"{name}.json"), "none")["services"].values()

    assert service["failed_tasks_total"] >= 3  # enough to trip a counter at the watchdog's threshold
    assert service["good_deployments_rolled_back"] == 0
    assert service["final"]["healthy_tasks"] == service["final"]["desired_count"]


@pytest.mark.parametrize("name", TRANSIENT)
def test_the_breaker_at_count_1_rolls_the_good_deployment_back_at_its_first_failure(name: str) -> None:
    (service,) = run_scenario(load_scenario(SCENARIOS / f"{name}.json"), "circuit-breaker-count-1")["services"].values()

    assert service["good_deployments_rolled_back"] == 1
    assert service["failed_tasks_total"] == 1
    assert service["contained_by"].startswith("circuit breaker rollback")


def test_rolling_back_a_failing_revision_is_no_false_alarm() -> None:
    result = run_scenario(
        load_scenario(SCENARIOS / "seed-004-clarity-alb-health-checks.json"), "circuit-breaker-count-1"
    )

    (service,) = result["services"].values()
    assert service["good_deployments_rolled_back"] == 0
    assert service["failed_tasks_before_containment"] == 1
