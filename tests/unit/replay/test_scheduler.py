"""The ECS scheduler model: rolling updates, the service throttle, the circuit breaker."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from ecs_watchdog.replay.scenario import BreakerConfig, Scenario, parse_scenario
from ecs_watchdog.replay.scheduler import (
    DeploymentEvent,
    Scheduler,
    ServiceActionEvent,
    TaskEvent,
    breaker_threshold,
    policy_configs,
    throttle_delay,
)

PULL = "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found"


def scenario(
    *,
    desired: int = 2,
    new: dict[str, Any] | None = None,
    deployment: dict[str, Any] | None = None,
    running: int | None = 5,
    horizon: float = 120,
    timeline: list[dict[str, Any]] | None = None,
) -> Scenario:
    revisions = [{"revision": 5, "image": "api:v1", "behaviour": {"kind": "healthy"}}]
    revisions.append({"revision": 6, "image": "api:v2", "behaviour": new or {"kind": "healthy"}})
    return parse_scenario(
        {
            "name": "t",
            "seed": 7,
            "cluster": "prod",
            "horizon_minutes": horizon,
            "services": [
                {
                    "name": "api",
                    "desired_count": desired,
                    "deployment": deployment or {},
                    "revisions": revisions,
                    "running_revision": running,
                }
            ],
            "timeline": timeline or [{"at_minute": 1, "deploy": {"service": "api", "revision": 6}}],
            "expect": {},
        },
        "test",
    )


def run_and_watch(s: Scheduler) -> list[tuple[int, int, int]]:
    """(live tasks, healthy tasks, desired) after every step."""
    seen = []
    while s.next_time() is not None:
        s.step()
        view = s.service("api")
        seen.append((view.running_count + view.pending_count, view.healthy_count, view.desired_count))
    return seen


@pytest.mark.parametrize(("minimum", "maximum"), [(100, 200), (50, 200), (50, 150), (0, 100), (100, 125)])
def test_rolling_update_stays_within_minimum_healthy_and_maximum_percent(minimum: int, maximum: int) -> None:
    sc = scenario(desired=4, deployment={"minimum_healthy_percent": minimum, "maximum_percent": maximum})
    s = Scheduler(sc)
    seen = run_and_watch(s)
    upper = 4 * maximum // 100
    lower = math.ceil(4 * minimum / 100)
    assert all(live <= upper for live, _, _ in seen)
    assert all(healthy >= lower for _, healthy, _ in seen)
    assert s.service("api").primary_revision == 6
    assert s.service("api").healthy_count == 4
    assert len(s.service("api").deployments) == 1


def test_healthy_deployment_completes_and_reaches_steady_state() -> None:
    s = Scheduler(scenario())
    events = s.run()
    names = [e.event_name for e in events if isinstance(e, DeploymentEvent | ServiceActionEvent)]
    assert names == ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_STEADY_STATE"]
    drained = [e for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED"]
    assert [e.revision for e in drained] == [5, 5]
    assert all(not e.failure and e.stop_code == "ServiceSchedulerInitiated" for e in drained)


def test_old_version_keeps_serving_while_new_revision_fails_at_minimum_healthy_100() -> None:
    sc = scenario(new={"kind": "fail_to_start", "stopped_reason": PULL})
    s = Scheduler(sc)
    seen = run_and_watch(s)
    assert min(healthy for _, healthy, _ in seen) == 2
    assert s.service("api").deployments[0].rollout_state == "IN_PROGRESS"


def test_minimum_healthy_zero_with_maximum_100_stops_every_old_task_first() -> None:
    sc = scenario(
        new={"kind": "unhealthy", "check": "elb"},
        deployment={"minimum_healthy_percent": 0, "maximum_percent": 100},
    )
    s = Scheduler(sc)
    s.run()
    assert s.service("api").healthy_count == 0


def test_throttle_delays_double_from_30_seconds_up_to_27_minutes() -> None:
    assert [throttle_delay(n) for n in range(1, 10)] == [0, 30, 60, 120, 240, 480, 960, 1620, 1620]


def test_tasks_failing_to_start_are_relaunched_with_growing_gaps() -> None:
    sc = scenario(desired=1, new={"kind": "fail_to_start", "stopped_reason": PULL, "after_seconds": 40}, horizon=180)
    events = Scheduler(sc).run()
    stops = [e.at for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED"]
    gaps = [b - a for a, b in itertools.pairwise(stops)]
    # After the n-th consecutive failure ECS waits throttle_delay(n), then the next task takes 32-48 s to fail.
    for n, gap in enumerate(gaps, start=1):
        assert throttle_delay(n) + 32 <= gap <= throttle_delay(n) + 48
    assert len(gaps) > 8
    impaired = [e for e in events if isinstance(e, ServiceActionEvent)]
    assert impaired and all(e.event_name == "SERVICE_TASK_START_IMPAIRED" for e in impaired)


def test_tasks_that_crash_after_running_are_never_throttled() -> None:
    sc = scenario(desired=1, new={"kind": "crash", "exit_code": 1}, horizon=60)
    events = Scheduler(sc).run()
    stops = [e.at for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED" and e.failure]
    gaps = [b - a for a, b in itertools.pairwise(stops)]
    assert len(stops) > 50
    assert max(gaps) < 60
    assert not any(isinstance(e, ServiceActionEvent) for e in events)


def test_new_task_definition_returns_service_to_unthrottled_launching() -> None:
    sc = scenario(
        desired=1,
        running=None,
        new={"kind": "fail_to_start", "stopped_reason": PULL},
        horizon=60,
        timeline=[
            {"at_minute": 0, "deploy": {"service": "api", "revision": 6}},
            {"at_minute": 30, "deploy": {"service": "api", "revision": 5}},
        ],
    )
    s = Scheduler(sc)
    events = s.run()
    running = [e for e in events if isinstance(e, TaskEvent) and e.last_status == "RUNNING"]
    assert running and running[0].revision == 5
    assert running[0].at < 30 * 60 + 60  # launched at once, not after the throttle's delay


@pytest.mark.parametrize(
    ("desired", "expected"), [(1, 3), (2, 3), (6, 3), (7, 4), (10, 5), (100, 50), (400, 200), (1000, 200)]
)
def test_default_breaker_threshold_is_half_desired_clamped_to_3_and_200(desired: int, expected: int) -> None:
    assert breaker_threshold(BreakerConfig(enable=True), desired) == expected


def test_count_and_unbounded_percent_thresholds_are_not_clamped() -> None:
    assert breaker_threshold(BreakerConfig(threshold_type="COUNT", threshold_value=1), 50) == 1
    assert breaker_threshold(BreakerConfig(threshold_type="UNBOUNDED_PERCENT", threshold_value=10), 4) == 1
    assert breaker_threshold(BreakerConfig(threshold_type="UNBOUNDED_PERCENT", threshold_value=50), 1000) == 500
    assert breaker_threshold(BreakerConfig(threshold_type="BOUNDED_PERCENT", threshold_value=100), 10) == 10


def test_breaker_rolls_back_to_last_completed_deployment() -> None:
    sc = scenario(new={"kind": "crash", "exit_code": 1}, deployment={"circuit_breaker": True, "rollback": True})
    s = Scheduler(sc)
    events = s.run()
    names = [e.event_name for e in events if isinstance(e, DeploymentEvent)]
    assert names == [
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "SERVICE_DEPLOYMENT_FAILED",
        "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "SERVICE_DEPLOYMENT_COMPLETED",
    ]
    rollback = [e for e in events if isinstance(e, DeploymentEvent)][2]
    assert rollback.reason.startswith("ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/")
    assert s.service("api").primary_revision == 5
    containment = s.containment("api")
    assert containment is not None and containment.failed_before == 3


def test_count_threshold_trips_after_exactly_that_many_failures() -> None:
    sc = scenario(
        new={"kind": "crash", "exit_code": 1},
        deployment={"circuit_breaker": True, "rollback": True, "breaker_threshold": {"type": "COUNT", "value": 7}},
    )
    s = Scheduler(sc)
    s.run()
    containment = s.containment("api")
    assert containment is not None and containment.failed_before == 7


def test_brand_new_service_has_nothing_to_roll_back_to_so_deployment_stalls() -> None:
    sc = scenario(
        desired=1,
        running=None,
        new={"kind": "crash", "exit_code": 1},
        deployment={"circuit_breaker": True, "rollback": True},
        timeline=[{"at_minute": 0, "deploy": {"service": "api", "revision": 6}}],
    )
    s = Scheduler(sc)
    s.run()
    view = s.service("api")
    assert view.deployments[0].rollout_state == "FAILED"
    assert len(view.deployments) == 1
    assert s.failed_tasks("api") == 3  # no launches after the trip
    containment = s.containment("api")
    assert containment is not None and "launches stopped" in containment.by


def test_breaker_ignores_failures_after_the_deployment_completed() -> None:
    sc = scenario(
        deployment={"circuit_breaker": True, "rollback": True},
        timeline=[
            {"at_minute": 1, "deploy": {"service": "api", "revision": 6}},
            {"at_minute": 20, "break": {"service": "api", "behaviour": {"kind": "crash", "exit_code": 1}}},
        ],
        horizon=40,
    )
    s = Scheduler(sc)
    s.run()
    assert s.containment("api") is None
    assert s.failed_tasks("api") > 20


def test_reset_on_healthy_task_lets_a_flaky_revision_survive_the_breaker() -> None:
    flaky = {"kind": "crash", "exit_code": 1, "probability": 0.5}
    kept = scenario(desired=6, new=flaky, deployment={"circuit_breaker": True, "rollback": True})
    strict = scenario(
        desired=6,
        new=flaky,
        deployment={"circuit_breaker": True, "rollback": True, "reset_on_healthy_task": False},
    )
    reset_run, strict_run = Scheduler(kept), Scheduler(strict)
    reset_run.run()
    strict_run.run()
    assert strict_run.containment("api") is not None
    assert reset_run.failed_tasks("api") >= strict_run.containment("api").failed_before  # type: ignore[union-attr]


def test_policies_force_the_breaker_off_or_on_and_keep_threshold_tuning() -> None:
    sc = scenario(deployment={"circuit_breaker": True, "breaker_threshold": {"type": "COUNT", "value": 4}})
    assert not policy_configs(sc, "none")["api"].breaker.enable
    forced = policy_configs(sc, "circuit-breaker")["api"].breaker
    assert forced.enable and forced.rollback and forced.threshold_value == 4
    assert policy_configs(sc, "watchdog")["api"] == sc.service("api").deployment


def test_same_seed_gives_identical_events() -> None:
    sc = scenario(new={"kind": "crash", "exit_code": 1, "probability": 0.3})
    assert Scheduler(sc).run() == Scheduler(sc).run()
