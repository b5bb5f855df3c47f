"""Judge like an operator: transient start-up failures in a good deployment are reported, not rolled back
(contain/transient.py, issue 23); failures no task outlives, or that keep the service short, still are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from ecs_watchdog.aws.service_tasks import ServiceTasks
from ecs_watchdog.contain.decision import decide_containment
from ecs_watchdog.contain.models import ActionKind, ContainmentPolicy, Mode, ServiceTagAction, ServiceView
from ecs_watchdog.contain.transient import TaskSample, transient_start_up_failures
from tests.unit.containment_builders import CLUSTER, NOW, SERVICE, deployment, facts, incident, td, view


def crashed(after_seconds: float, *, ago: float = 60.0, code: str = "EssentialContainerExited") -> TaskSample:
    stopped = NOW - timedelta(seconds=ago)
    return TaskSample(
        task_definition=td(6),
        last_status="STOPPED",
        started_at=stopped - timedelta(seconds=after_seconds),
        stopped_at=stopped,
        stop_code=code,
        stopped_reason="Essential container in task exited",
    )


def running(for_seconds: float, *, revision: int = 6, health: str = "UNKNOWN") -> TaskSample:
    return TaskSample(
        task_definition=td(revision),
        last_status="RUNNING",
        health_status=health,
        started_at=NOW - timedelta(seconds=for_seconds),
    )


def rolling_out(*, new_running: int, old_running: int, desired: int = 8) -> ServiceView:
    return view(
        deployment(6, running=new_running, status="PRIMARY", rollout="IN_PROGRESS", failed=3),
        deployment(5, running=old_running, status="ACTIVE", rollout="COMPLETED"),
        desired=desired,
    )


def test_start_up_crashes_outlived_by_running_tasks_are_transient_with_rate_and_evidence() -> None:
    tasks = [crashed(8), crashed(9), crashed(7), *[running(180) for _ in range(5)], running(5)]

    why = transient_start_up_failures(td(6), tasks, rolling_out(new_running=6, old_running=3), NOW)

    assert why is not None
    assert "3 of 9 tasks of api:6 failed (33%)" in why
    assert "each within 9 s of starting" in why
    assert "5 of its tasks have run longer (up to 3 min)" in why


def test_failures_no_running_task_has_outlived_are_a_failing_deployment() -> None:
    # Seed 004: every task fails its ELB health checks about two and a half minutes after starting.
    elb = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:...:targetgroup/api/1)"
    failed = [
        crashed(150, code="ServiceSchedulerInitiated").model_copy(update={"stopped_reason": elb}) for _ in range(3)
    ]
    tasks = [*failed, running(100), running(40)]

    assert transient_start_up_failures(td(6), tasks, rolling_out(new_running=2, old_running=8), NOW) is None


def test_failures_that_keep_the_service_below_its_desired_count_are_not_transient() -> None:
    tasks = [crashed(8), crashed(8), running(180), running(180)]

    # 2 proven tasks of api:6 and 4 of api:5 running: 6 of 8 desired.
    assert transient_start_up_failures(td(6), tasks, rolling_out(new_running=2, old_running=4), NOW) is None


def test_a_running_task_that_fails_its_health_checks_proves_nothing() -> None:
    tasks = [crashed(8), running(180, health="UNHEALTHY")]

    assert transient_start_up_failures(td(6), tasks, rolling_out(new_running=1, old_running=8), NOW) is None


def test_drained_and_scaled_in_tasks_are_not_failures_to_judge() -> None:
    drained = crashed(600, code="ServiceSchedulerInitiated").model_copy(
        update={"stopped_reason": "Scaling activity initiated by (deployment ecs-svc/5)"}
    )

    assert (
        transient_start_up_failures(td(6), [drained, running(180)], rolling_out(new_running=1, old_running=8), NOW)
        is None
    )


def test_transient_failures_hold_the_rollback_back_and_say_what_it_would_have_done() -> None:
    why = "transient start-up failures, not a failing deployment: 3 of 9 tasks of api:6 failed (33%)"
    action = decide_containment(
        incident(category="container_exit"),
        rolling_out(new_running=6, old_running=3),
        last_known_good=td(5),
        policy=ContainmentPolicy(mode=Mode.ENFORCE),
        service_tag_action=ServiceTagAction.AUTO,
        guards=facts(transient_failures=why),
    )

    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.ROLLBACK_UPDATE_SERVICE  # no deployment ARN in this view
    assert action.calls == ()
    assert action.reason.startswith(why)


@pytest.fixture
def stubbed() -> Iterator[tuple[ServiceTasks, Stubber]]:
    # moto 5.2.5 launches no tasks for a service and ignores ListTasks' serviceName: Stubber, real model.
    client = boto3.client("ecs", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ServiceTasks(client), stubber
        stubber.assert_no_pending_responses()


def test_service_tasks_lists_running_and_stopped_then_describes_them(stubbed: tuple[ServiceTasks, Stubber]) -> None:
    adapter, stubber = stubbed
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/{CLUSTER}/"
    for status, ids in (("RUNNING", ["a"]), ("STOPPED", ["b"])):
        stubber.add_response(
            "list_tasks",
            {"taskArns": [arn + i for i in ids]},
            {"cluster": CLUSTER, "serviceName": SERVICE, "desiredStatus": status, "maxResults": 100},
        )
    stopped_at = NOW - timedelta(seconds=30)
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [
                {"taskArn": arn + "a", "taskDefinitionArn": td(6), "lastStatus": "RUNNING", "startedAt": NOW},
                {
                    "taskArn": arn + "b",
                    "taskDefinitionArn": td(6),
                    "lastStatus": "STOPPED",
                    "healthStatus": "UNKNOWN",
                    "startedAt": stopped_at - timedelta(seconds=8),
                    "stoppedAt": stopped_at,
                    "stopCode": "EssentialContainerExited",
                },
            ]
        },
        {"cluster": CLUSTER, "tasks": [arn + "a", arn + "b"]},
    )

    tasks = adapter.service_tasks(CLUSTER, SERVICE)

    assert [(t.last_status, t.failed) for t in tasks] == [("RUNNING", False), ("STOPPED", True)]
    assert tasks[1].lived() == timedelta(seconds=8)
