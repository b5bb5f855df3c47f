"""A standalone task that ran to completion is not a failure; the same exit of a service's task still is.

`ecs-watchdog classify` is where people paste standalone tasks (the events function only receives the
stopped tasks of services), so the CLI's contract is tested too.
"""

from __future__ import annotations

import io
import json

import pytest

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.cli import classify_lines
from ecs_watchdog.models import ContainerStop, Stop

TASK = "arn:aws:ecs:eu-west-1:123456789012:task/batch/0123456789abcdef0123456789abcdef"
ESSENTIAL_EXITED = "Essential container in task exited"


def task(group: str, *containers: ContainerStop, stop_code: str | None = "EssentialContainerExited", **extra) -> Stop:
    return Stop(
        task_arn=TASK,
        region="eu-west-1",
        account="123456789012",
        cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/batch",
        group=group,
        task_definition_arn="arn:aws:ecs:eu-west-1:123456789012:task-definition/nightly-report:4",
        stop_code=stop_code,
        stopped_reason=ESSENTIAL_EXITED,
        containers=containers,
        **extra,
    )


def exited(name: str, code: int | None, reason: str | None = None) -> ContainerStop:
    return ContainerStop(name=name, exit_code=code, reason=reason)


@pytest.mark.parametrize(
    "containers",
    [
        (exited("report", 0),),
        (exited("report", 0), exited("log-router", 143)),  # the sidecar stopped by ECS after the job finished
        (exited("log-router", 143), exited("report", 0), exited("xray", 0)),
    ],
)
def test_a_standalone_task_whose_containers_finished_is_completed_not_a_failure(containers):
    result = classify_stop(task("family:nightly-report", *containers))
    assert (result.category, result.failure, result.rule) == ("completed", False, "standalone-completed")
    assert result.container == "report" and result.exit_code == 0
    assert result.exit_meaning is not None and "did its work" in result.exit_meaning
    assert result.runbook == "docs/runbooks/completed.md"


def test_a_task_stopped_without_a_stop_code_that_finished_is_completed_too():
    result = classify_stop(task("family:nightly-report", exited("report", 0), stop_code=None))
    assert result.category == "completed"


def test_a_service_task_whose_essential_container_exits_0_is_still_a_failure():
    # A service's container is meant to keep running: a 0 that ECS replaces again and again is a crash loop.
    result = classify_stop(task("service:checkout", exited("app", 0), started_by="ecs-svc/1234567890123456789"))
    assert (result.category, result.failure, result.rule) == ("container_exit", True, "exit-nonzero")
    assert "must keep running" in (result.exit_meaning or "")


def test_a_service_task_with_a_finished_and_a_terminated_container_keeps_its_classification():
    result = classify_stop(task("service:checkout", exited("app", 0), exited("envoy", 143)))
    assert (result.category, result.container, result.exit_code) == ("container_exit", "envoy", 143)


def test_a_task_started_by_a_service_is_a_services_even_without_its_group():
    result = classify_stop(task("", exited("app", 0), started_by="ecs-svc/1234567890123456789"))
    assert result.category == "container_exit"


@pytest.mark.parametrize(
    "containers",
    [
        (exited("report", 1),),  # the job failed
        (exited("report", 0), exited("uploader", 2)),  # one of them failed
        (exited("report", 143),),  # only stopped by SIGTERM: nobody finished
        (exited("report", 0), exited("uploader", 137)),  # killed
        (exited("report", 0, "CannotStartContainerError: a reason means trouble"),),
        (exited("report", None),),  # never ran
    ],
)
def test_a_standalone_task_that_did_not_finish_cleanly_is_still_a_failure(containers):
    result = classify_stop(task("family:nightly-report", *containers))
    assert result.failure is True and result.category != "completed"


def test_with_the_task_definition_known_only_essential_containers_decide():
    stopped = task("family:nightly-report", exited("report", 0), exited("metrics-agent", 1))
    assert classify_stop(stopped, essential={"report"}).category == "completed"
    assert classify_stop(stopped, essential={"report", "metrics-agent"}).failure is True


def test_a_standalone_task_stopped_by_a_person_stays_user():
    result = classify_stop(task("family:nightly-report", exited("report", 143), stop_code="UserInitiated"))
    assert (result.category, result.failure) == ("user", False)


def test_the_classify_command_says_a_finished_batch_task_is_not_a_failure():
    detail = {
        "taskArn": TASK,
        "lastStatus": "STOPPED",
        "group": "family:nightly-report",
        "startedBy": "events-rule/nightly-report",
        "stopCode": "EssentialContainerExited",
        "stoppedReason": ESSENTIAL_EXITED,
        "containers": [{"name": "report", "exitCode": 0}, {"name": "log-router", "exitCode": 143}],
    }
    service = {**detail, "group": "service:checkout", "startedBy": "ecs-svc/1234567890123456789"}
    out = io.StringIO()
    assert classify_lines(io.StringIO(f"{json.dumps(detail)}\n{json.dumps(service)}\n"), out) == 0
    batch, service_task = (json.loads(line) for line in out.getvalue().splitlines())
    assert (batch["category"], batch["failure"], batch["rule"]) == ("completed", False, "standalone-completed")
    assert (service_task["category"], service_task["failure"]) == ("container_exit", True)
