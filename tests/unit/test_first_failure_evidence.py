"""Before the threshold: a new revision's failure is a failing deployment when its tasks leave nothing to wait
for (contain/transient.py `nothing_survived`, issue 23), and the incident engine opens on it
(incidents/failed_stops.py); a sibling still running, unproven, while the old revision serves, is waited for."""

from __future__ import annotations

from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.service_tasks import ServiceTasks
from ecs_watchdog.contain.models import ContainmentPolicy, Mode
from ecs_watchdog.contain.step import Containment
from ecs_watchdog.contain.transient import TaskSample, nothing_survived
from ecs_watchdog.incidents.failed_stops import apply_stop
from ecs_watchdog.incidents.model import IncidentKind, ServiceState
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.unit.containment_builders import NOW, td
from tests.unit.test_incident_engine import GOOD, NEW, POLICY, failure, fresh

ARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/"
REF = ServiceRef(account="123456789012", region="us-east-1", cluster="prod", name="api")
ELB = "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:...:targetgroup/api/1)"


DEPLOYMENT = "ecs-svc/2"


def stopped(
    name: str,
    *,
    lived: float,
    ago: float = 0.0,
    revision: int = 6,
    reason: str | None = None,
    code: str | None = None,
    deployment: str = DEPLOYMENT,
) -> TaskSample:
    at = NOW - timedelta(seconds=ago)
    return TaskSample(
        task_arn=ARN + name,
        task_definition=td(revision),
        started_by=deployment,
        last_status="STOPPED",
        created_at=at - timedelta(seconds=lived + 20),
        started_at=at - timedelta(seconds=lived),
        stopped_at=at,
        stop_code=code or ("EssentialContainerExited" if reason is None else "ServiceSchedulerInitiated"),
        stopped_reason=reason or "Essential container in task exited",
    )


def alive(
    name: str, *, created_ago: float, started_ago: float | None = None, revision: int = 6, health: str = "UNKNOWN"
) -> TaskSample:
    return TaskSample(
        task_arn=ARN + name,
        task_definition=td(revision),
        started_by=DEPLOYMENT if revision == 6 else "ecs-svc/1",
        last_status="RUNNING" if started_ago is not None else "PENDING",
        health_status=health,
        created_at=NOW - timedelta(seconds=created_ago),
        started_at=None if started_ago is None else NOW - timedelta(seconds=started_ago),
    )


def old_serving(count: int = 1) -> list[TaskSample]:
    return [alive(f"old{i}", created_ago=7200, started_ago=7180, revision=5) for i in range(count)]


def judge(
    tasks: list[TaskSample], failed: str = "f1", *, desired: int = 1, replaced_healthy: bool = True
) -> str | None:
    return nothing_survived(
        td(6), ARN + failed, tasks, NOW, desired=desired, deployment=DEPLOYMENT, replaced_healthy=replaced_healthy
    )


def test_a_one_task_revision_whose_only_task_crashed_needs_no_second_failure() -> None:
    # Seed 000: the scheduler has already started the replacement (PENDING, created as the task stopped).
    tasks = [*old_serving(), stopped("f1", lived=5), alive("r1", created_ago=0)]

    why = judge(tasks)

    assert why is not None
    assert "every task api:6 launched for the service's 1 desired before its first failure has failed (1 of 1)" in why
    # Scaled to zero meanwhile (a person, auto scaling): the deployment is not wanted to run; nothing to judge.
    assert judge(tasks, desired=0) is None


def test_a_sibling_of_the_same_wave_still_running_is_waited_for_while_the_old_revision_serves() -> None:
    # The benign drills: 8 tasks launched together, one exits at start-up, 7 run on.
    siblings = [alive(f"s{i}", created_ago=30, started_ago=8) for i in range(7)]

    assert judge([*old_serving(8), stopped("f1", lived=8), *siblings], desired=8) is None


def test_a_launch_smaller_than_the_desired_count_is_waited_for() -> None:
    # Maximum percent 120 of 8: one new task at a time. Its crash is one launch, not the revision's verdict.
    tasks = [*old_serving(8), stopped("f1", lived=5), alive("r1", created_ago=0)]

    assert judge(tasks, desired=8) is None


def test_a_sibling_still_starting_from_before_the_failure_is_waited_for_too() -> None:
    assert judge([*old_serving(), stopped("f1", lived=5), alive("s1", created_ago=30)], desired=2) is None


def test_a_wave_that_failed_together_is_a_failing_deployment_at_its_last_task_whatever_replaced_it() -> None:
    # Seed 001's frontend: two tasks fail their ELB health checks 90 s after starting; the replacement for
    # the first is already running, but it was launched because of the failure and proves nothing yet.
    at_first = [
        *old_serving(2),
        stopped("f1", lived=90, ago=2, reason=ELB),
        alive("f2", created_ago=112, started_ago=92),
    ]
    at_second = [
        *old_serving(2),
        stopped("f1", lived=90, ago=2, reason=ELB),
        stopped("f2", lived=90, reason=ELB),
        alive("r1", created_ago=2, started_ago=1),
    ]

    assert judge(at_first, failed="f1", desired=2) is None  # its sibling may yet pass the checks
    why = judge(at_second, failed="f2", desired=2)
    assert why is not None and "(2 of 2)" in why


def test_a_failed_health_check_with_nothing_serving_is_an_outage_at_the_first_failure() -> None:
    # Seed 004: minimum healthy 0 %, the old tasks are gone; both new tasks fail their ELB health checks.
    tasks = [stopped("f1", lived=120, reason=ELB), alive("s1", created_ago=140, started_ago=120)]

    why = judge(tasks, desired=2)

    assert why is not None and "the service is down" in why
    # A first deployment has no revision to go back to: down is where it starts, not an outage to end.
    assert judge(tasks, desired=2, replaced_healthy=False) is None


def test_a_crash_at_start_up_beside_running_siblings_is_no_outage_even_with_nothing_else_serving() -> None:
    # Minimum healthy 0 %, 8 new tasks: one exits 1 at start-up; the 7 others may well come up.
    siblings = [alive(f"s{i}", created_ago=25, started_ago=5) for i in range(7)]

    assert judge([stopped("f1", lived=5), *siblings], desired=8) is None


def test_a_sibling_its_health_check_calls_healthy_is_serving() -> None:
    tasks = [stopped("f1", lived=120, reason=ELB), alive("s1", created_ago=140, started_ago=120, health="HEALTHY")]

    assert judge(tasks, desired=2) is None


def test_a_task_of_the_revision_that_outlived_its_failures_proves_it_even_with_nothing_else_serving() -> None:
    tasks = [stopped("f1", lived=8, reason=ELB), alive("s1", created_ago=400, started_ago=300)]

    assert judge(tasks, desired=2) is None


def test_an_earlier_deployment_of_the_same_revision_says_nothing_of_this_one() -> None:
    # Rolled back half an hour ago, deployed again by a person: its old failure must not shrink this wave.
    earlier = stopped("e1", lived=5, ago=1800, deployment="ecs-svc/1")
    siblings = [alive(f"s{i}", created_ago=25, started_ago=5) for i in range(7)]

    assert judge([*old_serving(8), earlier, stopped("f1", lived=5), *siblings], desired=8) is None
    assert judge([*old_serving(), earlier, stopped("f1", lived=5)]) is not None  # its own wave still counts


def test_a_sibling_stopped_by_a_person_or_a_scale_in_makes_the_wave_no_verdict() -> None:
    by_person = stopped("s1", lived=10, ago=5, code="UserInitiated").model_copy(
        update={"stopped_reason": "Task stopped by user"}
    )

    assert judge([*old_serving(2), stopped("f1", lived=5), by_person], desired=2) is None


def test_nothing_is_judged_before_ecs_shows_the_failed_task_stopped() -> None:
    shown_running = alive("f1", created_ago=30, started_ago=5)

    assert judge([*old_serving(), shown_running]) is None


def test_the_engine_opens_at_the_first_failure_on_that_evidence_and_asks_once_per_failure() -> None:
    asked: list[ServiceState] = []

    def early(state: ServiceState) -> str | None:
        asked.append(state)
        return "every task api:6 launched before its first failure has failed (1 of 1)"

    result = apply_stop(fresh(), failure(1), POLICY, early=early)

    (opened,) = result.transitions
    assert opened.incident.kind is IncidentKind.FAILING_DEPLOYMENT and opened.incident.failures == 1
    assert "before the threshold of 3: every task api:6 launched" in opened.summary
    assert opened.incident.last_known_good == GOOD
    assert len(asked) == 1


def test_the_engine_waits_for_the_threshold_when_the_tasks_say_wait() -> None:
    state = fresh()
    for n in (1, 2):
        result = apply_stop(state, failure(n), POLICY, early=lambda _state: None)
        assert result.transitions == []
        state = result.state

    assert len(apply_stop(state, failure(3), POLICY, early=lambda _state: None).transitions) == 1


def test_a_services_own_threshold_tag_and_a_revision_once_healthy_are_never_cut_short() -> None:
    def early(state: ServiceState) -> str | None:
        raise AssertionError("asked where the threshold rules")

    tagged = fresh().model_copy(update={"threshold_override": 5})
    assert apply_stop(tagged, failure(1), POLICY, early=early).transitions == []
    # The last known good failing again is a crash loop: counted by the window, not judged by a first task.
    assert apply_stop(fresh(), failure(1, revision=GOOD), POLICY, early=early).transitions == []


def test_a_new_revision_stays_new_to_the_rule_only_until_its_incident_opens() -> None:
    state = apply_stop(fresh(), failure(1), POLICY, early=lambda _s: "nothing left").state

    def early(_state: ServiceState) -> str | None:
        raise AssertionError("asked once the incident is open")

    assert apply_stop(state, failure(2), POLICY, early=early).note.startswith("counted in incident")
    assert NEW in {i.task_definition for i in state.incidents.values()}


def stubbed_containment(mode: Mode) -> tuple[Containment, Stubber]:
    # moto launches no tasks for a service: ServiceTasks over a Stubber with the real ECS model.
    client = boto3.client("ecs", region_name="us-east-1")
    actions = EcsActions(client, boto3.client("application-autoscaling", region_name="us-east-1"), dry_run=True)
    return Containment(actions=actions, policy=ContainmentPolicy(mode=mode), tasks=ServiceTasks(client)), Stubber(
        client
    )


def test_containment_reads_the_tasks_once_and_judges_them() -> None:
    containment, stubber = stubbed_containment(Mode.ENFORCE)
    stubber.add_response("describe_services", {"services": [{"serviceName": "api", "desiredCount": 1}]})
    stubber.add_response("list_tasks", {"taskArns": [ARN + "r1"]})
    stubber.add_response("list_tasks", {"taskArns": [ARN + "f1"]})
    one = stopped("f1", lived=5)
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [
                {
                    "taskArn": ARN + "f1",
                    "taskDefinitionArn": td(6),
                    "lastStatus": "STOPPED",
                    "createdAt": one.created_at,
                    "startedAt": one.started_at,
                    "stoppedAt": one.stopped_at,
                    "stopCode": "EssentialContainerExited",
                    "stoppedReason": "Essential container in task exited",
                },
                {"taskArn": ARN + "r1", "taskDefinitionArn": td(6), "lastStatus": "PENDING", "createdAt": NOW},
            ]
        },
    )
    with stubber:
        why = containment.nothing_survived(REF, td(6), ARN + "f1", NOW, deployment=None, replaced_healthy=True)
        stubber.assert_no_pending_responses()

    assert why is not None and "(1 of 1)" in why


def test_tasks_that_cannot_be_read_are_no_evidence_and_notify_mode_reads_none() -> None:
    containment, stubber = stubbed_containment(Mode.ENFORCE)
    stubber.add_response("describe_services", {"services": [{"serviceName": "api", "desiredCount": 1}]})
    stubber.add_client_error("list_tasks", "ThrottlingException", "Rate exceeded")
    with stubber:
        assert containment.nothing_survived(REF, td(6), ARN + "f1", NOW, deployment=None, replaced_healthy=True) is None

    quiet, _ = stubbed_containment(Mode.NOTIFY)
    asked: list[str] = []

    class Recorder:  # the step's own TaskSampler protocol: was it asked at all?
        def service_tasks(self, cluster: str, service: str) -> list[TaskSample]:
            asked.append(service)
            return []

        def desired_count(self, cluster: str, service: str) -> int | None:
            asked.append(service)
            return 1

    quiet.tasks = Recorder()
    assert quiet.nothing_survived(REF, td(6), ARN + "f1", NOW, deployment=None, replaced_healthy=True) is None
    assert asked == []

    # In enforce, a service whose own tag keeps containment away (or a value not ours, read as notify) costs
    # no read either; an approve tag still proposes, so it is looked at.
    enforcing, _ = stubbed_containment(Mode.ENFORCE)
    enforcing.tasks = Recorder()
    for tag in ("notify", " IGNORE ", "notfy"):
        assert (
            enforcing.nothing_survived(
                REF, td(6), ARN + "f1", NOW, deployment=None, replaced_healthy=True, action_tag=tag
            )
            is None
        )
    assert asked == []
    enforcing.nothing_survived(
        REF, td(6), ARN + "f1", NOW, deployment=None, replaced_healthy=True, action_tag="approve"
    )
    assert asked == ["api", "api"]


def test_a_service_too_large_for_one_page_of_tasks_is_left_to_the_threshold() -> None:
    # 100 tasks listed: the old revision's may be on a page never read, so "nothing else serves" is unknown.
    page = [alive(f"n{i}", created_ago=300, started_ago=100) for i in range(99)]

    assert judge([stopped("f1", lived=120, reason=ELB), *page], desired=100) is None
    assert judge([stopped("f1", lived=120, reason=ELB), *page[:98]], desired=100) is not None


def test_a_task_listed_but_not_described_is_no_partial_view() -> None:
    client = boto3.client("ecs", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response("list_tasks", {"taskArns": [ARN + "s1"]})
    stubber.add_response("list_tasks", {"taskArns": [ARN + "f1"]})
    stubber.add_response(
        "describe_tasks",
        {
            "tasks": [{"taskArn": ARN + "f1", "taskDefinitionArn": td(6), "lastStatus": "STOPPED"}],
            "failures": [{"arn": ARN + "s1", "reason": "MISSING"}],
        },
    )
    with stubber, pytest.raises(LookupError, match="could not describe 1"):
        ServiceTasks(client).service_tasks("prod", "api")
