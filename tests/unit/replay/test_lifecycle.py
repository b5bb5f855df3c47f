"""Lifecycle stages, PAUSE hooks, bake time and rollbacks in the scheduler model (no AWS)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.scenario import ScenarioError, TrafficShift, load_scenario, parse_scenario
from ecs_watchdog.replay.scheduler import (
    DeploymentEvent,
    HookEvent,
    Scheduler,
    SchedulerCommandError,
    policy_configs,
)
from ecs_watchdog.replay.scheduler.lifecycle import production_shift_minutes

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SERVICE = "checkout"


def scheduler_for(name: str, policy: str = "none") -> Scheduler:
    scenario = load_scenario(SCENARIOS / f"{name}.json")
    return Scheduler(scenario, policy_configs(scenario, policy))


def run_until_hook(scheduler: Scheduler) -> tuple[HookEvent, list[int]]:
    """Step until the first HOOK_AWAITING_ACTION; also return the healthy counts seen after each step."""
    healthy: list[int] = []
    while scheduler.next_time() is not None:
        events = scheduler.step()
        healthy.append(scheduler.service(SERVICE).healthy_count)
        hooks = [e for e in events if isinstance(e, HookEvent)]
        if hooks:
            return hooks[0], healthy
    raise AssertionError("no hook was reached")


def run_to_end(scheduler: Scheduler) -> tuple[list[object], list[int]]:
    events: list[object] = []
    healthy: list[int] = []
    while scheduler.next_time() is not None:
        events.extend(scheduler.step())
        healthy.append(scheduler.service(SERVICE).healthy_count)
    return events, healthy


def test_a_canary_deployment_pauses_at_its_hook_with_the_old_tasks_still_serving() -> None:
    scheduler = scheduler_for("gate-canary-healthy")
    hook, healthy = run_until_hook(scheduler)
    assert (hook.stage, hook.hook_type, hook.event_name) == ("POST_TEST_TRAFFIC_SHIFT", "PAUSE", "HOOK_AWAITING_ACTION")
    assert hook.expires_at == pytest.approx(hook.at + 60 * 60)
    new = scheduler.service(SERVICE).deployments[0]
    assert (new.revision, new.rollout_state, new.lifecycle_stage) == (42, "IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT")
    assert [h.status for h in new.hooks] == ["AWAITING_ACTION"]
    # Green scaled up beside blue: 4 + 4 healthy, and blue never dropped below 4.
    assert scheduler.service(SERVICE).healthy_count == 8
    assert min(healthy) >= 4


def test_continue_walks_the_remaining_stages_and_bake_time_then_completes() -> None:
    scheduler = scheduler_for("gate-canary-healthy")
    hook, _ = run_until_hook(scheduler)
    scheduler.continue_service_deployment(SERVICE, hook.deployment_id, hook.hook_id, "CONTINUE")
    events, healthy = run_to_end(scheduler)
    completed = [e for e in events if isinstance(e, DeploymentEvent) and e.event_name.endswith("COMPLETED")]
    assert len(completed) == 1
    # Canary interval (10 min) then bake time (15 min) after the answer, before the old tasks go.
    assert completed[0].at - hook.at == pytest.approx(25 * 60)
    view = scheduler.service(SERVICE)
    assert (view.primary_revision, view.healthy_count, len(view.deployments)) == (42, 4, 1)
    assert min(healthy) >= 4


def test_an_unanswered_hook_times_out_into_a_rollback_that_keeps_the_old_tasks() -> None:
    scheduler = scheduler_for("gate-canary-healthy")
    events, healthy = run_to_end(scheduler)
    failed = [e for e in events if isinstance(e, DeploymentEvent) and e.event_name == "SERVICE_DEPLOYMENT_FAILED"]
    assert len(failed) == 1 and "timed out" in failed[0].reason
    view = scheduler.service(SERVICE)
    assert (view.primary_revision, view.healthy_count) == (41, 4)
    rolled = scheduler.deployment_history(SERVICE)[0]
    assert (rolled.service_deployment_status, rolled.rolled_back_to) == ("ROLLBACK_SUCCESSFUL", 41)
    assert [h.status for h in rolled.hooks] == ["TIMED_OUT"]
    assert min(healthy) >= 4


def test_continue_with_rollback_restores_the_old_revision_at_once() -> None:
    scheduler = scheduler_for("gate-canary-fails-during-pause")
    hook, _ = run_until_hook(scheduler)
    scheduler.continue_service_deployment(SERVICE, hook.deployment_id, hook.hook_id, "ROLLBACK")
    view = scheduler.service(SERVICE)
    assert (view.primary_revision, view.healthy_count, len(view.deployments)) == (41, 4, 1)
    _, healthy = run_to_end(scheduler)
    assert scheduler.failed_tasks(SERVICE) == 0
    assert min(healthy) >= 4


@pytest.mark.parametrize("answer", ["wrong-hook", "twice", "after-rollback"])
def test_continue_is_refused_unless_the_named_hook_awaits_action(answer: str) -> None:
    scheduler = scheduler_for("gate-canary-healthy")
    hook, _ = run_until_hook(scheduler)
    hook_id = hook.hook_id
    if answer == "wrong-hook":
        hook_id = "00000000-0000-4000-a000-000000000000"
    elif answer == "twice":
        scheduler.continue_service_deployment(SERVICE, hook.deployment_id, hook.hook_id, "CONTINUE")
    else:
        scheduler.stop_service_deployment(SERVICE, hook.deployment_id, "ROLLBACK")
    with pytest.raises(SchedulerCommandError) as refused:
        scheduler.continue_service_deployment(SERVICE, hook.deployment_id, hook_id, "CONTINUE")
    assert refused.value.code == "InvalidParameterException"


def test_stop_service_deployment_refuses_with_a_conflict_when_nothing_is_in_progress() -> None:
    scheduler = scheduler_for("gate-canary-healthy")
    completed = scheduler.service(SERVICE).deployments[0]
    with pytest.raises(SchedulerCommandError) as refused:
        scheduler.stop_service_deployment(SERVICE, completed.deployment_id, "ROLLBACK")
    assert refused.value.code == "ConflictException"


def test_stop_service_deployment_rolls_a_rolling_deployment_back_without_losing_a_healthy_task() -> None:
    scenario = load_scenario(SCENARIOS / "seed-000-webhook-crash-loop.json")
    scheduler = Scheduler(scenario, policy_configs(scenario, "none"))
    name = scenario.services[0].name
    while scheduler.failed_tasks(name) < 2:
        scheduler.step()
        assert scheduler.service(name).healthy_count >= 1
    failing = scheduler.service(name).deployments[0]
    scheduler.stop_service_deployment(name, failing.deployment_id, "ROLLBACK")
    healthy = []
    while scheduler.next_time() is not None:
        scheduler.step()
        healthy.append(scheduler.service(name).healthy_count)
    assert min(healthy) >= 1
    assert scheduler.service(name).primary_revision == 11
    assert scheduler.failed_tasks(name) == 2


def test_the_breaker_rolls_a_staged_deployment_back_to_the_blue_tasks() -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / "gate-canary-fails-during-pause.json"), "circuit-breaker")
    service = result["services"][SERVICE]
    assert service["containment"]["failed_tasks_before"] == 3
    assert service["containment"]["action"] == "circuit breaker rollback to checkout:41"
    assert service["final"] == {"desired_count": 4, "running_revision": 41, "healthy_tasks": 4}


def test_without_an_answer_the_failing_canary_runs_until_the_hook_times_out() -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / "gate-canary-fails-during-pause.json"), "none")
    service = result["services"][SERVICE]
    assert service["containment"]["action"].startswith("lifecycle hook timeout")
    assert service["containment"]["minute"] > 120
    assert service["failed_tasks_total"] > 100
    assert result["events"]["ECS Hook State Change"] == 1


@pytest.mark.parametrize(
    "name",
    [
        "seed-000-webhook-crash-loop",
        "seed-001-pairva-log-group-and-health-checks",
        "seed-004-clarity-alb-health-checks",
    ],
)
def test_the_breaker_at_its_best_tuning_contains_a_failing_deployment_within_3_failed_tasks(name: str) -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / f"{name}.json"), "circuit-breaker-best")
    for service in result["services"].values():
        assert service["containment"] is not None
        assert service["containment"]["failed_tasks_before"] <= 3


def test_production_shift_lasts_one_interval_for_canary_and_every_step_but_the_last_for_linear() -> None:
    canary = load_scenario(SCENARIOS / "gate-canary-healthy.json").services[0].deployment
    assert production_shift_minutes(canary) == 10
    linear = replace(canary, strategy="LINEAR", traffic_shift=TrafficShift(percent=25, interval_minutes=6))
    assert production_shift_minutes(linear) == 18
    assert production_shift_minutes(replace(canary, strategy="BLUE_GREEN", traffic_shift=None)) == 0


@pytest.mark.parametrize(
    ("deployment", "message"),
    [
        ({"lifecycle_hooks": [{"stages": ["POST_SCALE_UP"]}]}, "lifecycle hooks need strategy"),
        ({"strategy": "CANARY", "lifecycle_hooks": [{"stages": ["TEST_TRAFFIC_SHIFT"]}]}, "is not allowed"),
        ({"strategy": "CANARY", "lifecycle_hooks": [{"stages": ["POST_SCALE_UP"], "timeout_minutes": 20161}]}, "20161"),
        ({"strategy": "BLUE_GREEN", "canary": {"percent": 5}}, "only used with strategy CANARY"),
    ],
)
def test_scenarios_refuse_hooks_the_real_api_refuses(deployment: dict[str, object], message: str) -> None:
    document = {
        "name": "t",
        "seed": 1,
        "horizon_minutes": 10,
        "services": [
            {
                "name": "api",
                "desired_count": 1,
                "deployment": deployment,
                "revisions": [{"revision": 1, "image": "api:v1", "behaviour": {"kind": "healthy"}}],
                "running_revision": 1,
            }
        ],
        "timeline": [],
        "expect": {},
    }
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(document)
