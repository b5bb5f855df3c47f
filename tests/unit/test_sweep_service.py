"""The sweep's judgement of one service (pure): what it flags and which engine inputs it asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.events import DeploymentStateChangeEvent, ServiceActionEvent
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.sweep.judgement import DescribedDeployment, DescribedService, SweepFlag, sweep_service

NOW = datetime(2025, 7, 21, 12, 0, tzinfo=UTC)
ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/api"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"


def _deployment(
    id: str = "ecs-svc/1", *, status: str = "PRIMARY", rollout: str = "COMPLETED", age_minutes: int = 5, failed: int = 0
) -> DescribedDeployment:
    return DescribedDeployment(
        id=id,
        status=status,
        rollout_state=rollout,
        task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/api:7",
        created_at=NOW - timedelta(minutes=age_minutes),
        failed_tasks=failed,
    )


def _service(*deployments: DescribedDeployment, desired: int = 2, running: int = 2, breaker: bool | None = True):
    return DescribedService(ARN, CLUSTER, desired, running, tuple(deployments), breaker)


def test_a_healthy_service_is_not_flagged_and_asks_for_nothing():
    judged = sweep_service(_service(_deployment()), NOW, LoopPolicy())
    assert judged.findings == () and judged.events == ()


def test_a_deployment_in_progress_past_the_threshold_is_stuck_and_replayed_with_its_start_time():
    judged = sweep_service(_service(_deployment(rollout="IN_PROGRESS", age_minutes=95)), NOW, LoopPolicy())
    assert [f.flag for f in judged.findings] == [SweepFlag.STUCK_DEPLOYMENT]
    assert "95 min" in judged.findings[0].detail
    (event,) = judged.events
    assert isinstance(event, DeploymentStateChangeEvent)
    assert event.detail.eventName == "SERVICE_DEPLOYMENT_IN_PROGRESS" and event.detail.deploymentId == "ecs-svc/1"
    assert event.detail.updatedAt == NOW - timedelta(minutes=95)
    assert event.service_arn == ARN and event.id.startswith("sweep-")


def test_a_young_deployment_in_progress_is_not_stuck():
    judged = sweep_service(_service(_deployment(rollout="IN_PROGRESS", age_minutes=29)), NOW, LoopPolicy())
    assert judged.findings == ()


def test_two_deployments_in_progress_overlap_and_the_newest_is_replayed():
    old = _deployment("ecs-svc/1", status="ACTIVE", rollout="IN_PROGRESS", age_minutes=12)
    new = _deployment("ecs-svc/2", rollout="IN_PROGRESS", age_minutes=3)
    judged = sweep_service(_service(new, old), NOW, LoopPolicy())
    assert [f.flag for f in judged.findings] == [SweepFlag.OVERLAPPING_DEPLOYMENTS]
    (event,) = judged.events
    assert isinstance(event, DeploymentStateChangeEvent) and event.detail.deploymentId == "ecs-svc/2"


def test_running_none_of_desired_with_failed_tasks_climbing_is_start_impaired():
    failing = _deployment(rollout="IN_PROGRESS", age_minutes=8, failed=7)
    judged = sweep_service(_service(failing, running=0), NOW, LoopPolicy())
    assert {f.flag for f in judged.findings} == {SweepFlag.NOT_RUNNING, SweepFlag.FAILED_TASKS_CLIMBING}
    (event,) = judged.events
    assert isinstance(event, ServiceActionEvent) and event.detail.eventName == "SERVICE_TASK_START_IMPAIRED"
    assert "running 0 of desired 2" in event.detail.reason and "7 failed tasks" in event.detail.reason


def test_a_new_service_still_starting_its_first_tasks_is_given_a_grace_period():
    judged = sweep_service(_service(_deployment(rollout="IN_PROGRESS", age_minutes=2), running=0), NOW, LoopPolicy())
    assert judged.findings == ()


def test_a_service_scaled_to_zero_is_not_flagged():
    judged = sweep_service(_service(_deployment(age_minutes=600), desired=0, running=0), NOW, LoopPolicy())
    assert judged.findings == ()


def test_breaker_off_is_advice_only():
    judged = sweep_service(_service(_deployment(), breaker=False), NOW, LoopPolicy())
    assert [f.flag for f in judged.findings] == [SweepFlag.CIRCUIT_BREAKER_OFF] and judged.events == ()


def test_failed_tasks_below_the_threshold_are_not_climbing():
    judged = sweep_service(_service(_deployment(rollout="IN_PROGRESS", failed=2)), NOW, LoopPolicy(failure_threshold=3))
    assert judged.findings == ()
