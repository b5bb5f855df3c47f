"""Act only where acting helps: a rollback changes the revision, so only a cause in the revision is
rolled back; configuration causes are told with the setting to check; platform causes never count toward
a service's failure loop and go to the cluster's infrastructure incident (docs/containment.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.classify.categories import CATEGORIES, CAUSES
from ecs_watchdog.classify.rules import RuleTableError, parse_rules
from ecs_watchdog.contain.models import ActionKind
from ecs_watchdog.incidents.infrastructure import (
    ClusterInfrastructure,
    affected_services,
    apply_instance_health,
    apply_platform_failure,
)
from ecs_watchdog.incidents.model import IncidentKind, IncidentStatus, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_action_events import apply_service_action
from ecs_watchdog.models import ContainerStop, Stop
from tests.unit.containment_builders import deploying, facts
from tests.unit.test_containment_decision import decide
from tests.unit.test_incident_engine import GOOD, NEW, failure, feed, fresh
from tests.unit.test_incident_engine import T0 as ENGINE_T0

POLICY = LoopPolicy()
T0 = datetime(2026, 4, 11, 0, 0, tzinfo=UTC)
ACCOUNT = "123456789012/us-west-2"
T_LATER = ENGINE_T0 + timedelta(minutes=3)
INSTANCE = "arn:aws:ecs:us-west-2:123456789012:container-instance/my-cluster/a1b2c3d4EXAMPLE"

API_FAILURES = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/api_failures_messages.html"
FAILED_TO_START = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/failed-to-start-error.html"
CANNOT_CREATE_VOLUME = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cannot-create-volume.html"
STOPPED_TASK_ERRORS = "https://docs.aws.amazon.com/AmazonECS/latest/userguide/stopped-task-error-codes.html"
TASK_API = "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html"


def service_stop(stop_code: str | None, reason: str, *containers: ContainerStop, group: str = "service:api") -> Stop:
    return Stop(
        task_arn="arn:aws:ecs:us-west-2:123456789012:task/my-cluster/0123456789abcdef0123456789abcdef",
        region="us-west-2",
        cluster_arn="arn:aws:ecs:us-west-2:123456789012:cluster/my-cluster",
        group=group,
        task_definition_arn=NEW,
        started_by="ecs-svc/1234567890" if group.startswith("service:") else "events-rule/nightly",
        stop_code=stop_code,
        stopped_reason=reason,
        containers=containers,
    )


# (page the text is quoted from, stopCode, stoppedReason, category, cause)
DOCUMENTED = [
    (API_FAILURES, "TaskFailedToStart", "TaskFailedToStart: RESOURCE:MEMORY", "capacity", "platform"),
    (API_FAILURES, "TaskFailedToStart", "TaskFailedToStart: AGENT", "runtime", "platform"),
    (
        API_FAILURES,
        "TaskFailedToStart",
        "TaskFailedToStart: MemberOf placement constraint unsatisfied",
        "capacity",
        "configuration",
    ),
    (
        FAILED_TO_START,
        "TaskFailedToStart",
        "Unexpected EC2 error while attempting to attach network interface to instance",
        "network",
        "platform",
    ),
    (CANNOT_CREATE_VOLUME, "TaskFailedToStart", "CannotCreateVolumeError: <reason>", "storage", "platform"),
    (
        STOPPED_TASK_ERRORS,
        "TaskFailedToStart",
        "ContainerRuntimeTimeoutError: Could not transition to running; timed out after waiting 1m: <reason>",
        "runtime",
        "platform",
    ),
]


@pytest.mark.parametrize(("page", "stop_code", "reason", "category", "cause"), DOCUMENTED)
def test_documented_infrastructure_start_failures_name_the_platform_or_the_configuration(
    page, stop_code, reason, category, cause
):
    result = classify_stop(service_stop(stop_code, reason))
    assert (result.category, result.cause) == (category, cause), f"{page}: rule {result.rule}"
    assert result.failure


@pytest.mark.parametrize(
    ("reason", "rule"),
    [
        # Paraphrases of the same failures as other agents and platform versions word them.
        (
            "ResourceInitializationError: failed to provision ephemeral storage for the task",
            "storage-ephemeral-provisioning",
        ),
        ("Fargate ephemeral storage allocation failed: internal error", "storage-ephemeral-provisioning"),
        (
            "Unable to attach network interface eni-0abc: RequestLimitExceeded: Request limit exceeded.",
            "network-interface-rate-limit",
        ),
        ("Timed out waiting for the elastic network interface to attach", "network-eni-provisioning"),
        ("unable to retrieve secret from asm: ThrottlingException: Rate exceeded", "secrets-throttled"),
        ("Task stopped because its container instance i-0abcdef1234567890 is being deregistered", "task-retirement"),
        ("Task failed to start", "failed-to-start-bare"),
    ],
)
def test_infrastructure_start_failures_are_recognised_in_general(reason, rule):
    result = classify_stop(service_stop("TaskFailedToStart", reason))
    assert result.rule == rule
    assert result.cause == "platform"


def test_a_bare_task_failed_to_start_without_a_stop_code_is_still_the_platforms():
    result = classify_stop(service_stop(None, "Task failed to start"))
    assert (result.category, result.cause) == ("runtime", "platform")


def test_the_infrastructure_health_stop_code_is_benign_and_the_platforms():
    # TaskStopCode InfrastructureHealth (API_Task.html: documented only as an enum value).
    result = classify_stop(service_stop("InfrastructureHealth", ""))
    assert (result.category, result.failure, result.cause) == ("infrastructure", False, "platform"), TASK_API


def test_a_health_check_failure_is_the_configurations_with_the_setting_to_check():
    result = classify_stop(
        service_stop(
            "ServiceSchedulerInitiated",
            "Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-west-2:123456789012:"
            "targetgroup/api/0123456789abcdef)",
        )
    )
    assert (result.category, result.cause) == ("health_check_elb", "configuration")
    assert "healthCheckGracePeriodSeconds" in CATEGORIES["health_check_elb"].setting


def test_a_completed_standalone_task_and_one_a_person_stopped_are_benign():
    done = service_stop(
        "EssentialContainerExited",
        "Essential container in task exited",
        ContainerStop(name="job", exit_code=0),
        group="family:nightly",
    )
    stopped = service_stop("UserInitiated", "Task stopped by user", group="family:nightly")
    assert [(r.category, r.failure) for r in map(classify_stop, (done, stopped))] == [
        ("completed", False),
        ("user", False),
    ]


def test_every_failure_category_says_where_its_cause_lives():
    assert {CATEGORIES[c].cause for c in CATEGORIES if CATEGORIES[c].failure and c != "unknown"} <= set(CAUSES)
    assert CATEGORIES["unknown"].cause is None


def test_a_rule_naming_a_cause_outside_the_three_is_refused():
    document = {
        "rule": [
            {
                "id": "x",
                "category": "network",
                "cause": "weather",
                "text": "x",
                "title": "t",
                "summary": "s",
                "next_steps": [],
            },
            {"id": "unknown", "category": "unknown", "title": "t", "summary": "s", "next_steps": []},
        ]
    }
    with pytest.raises(RuleTableError, match="cause 'weather'"):
        parse_rules(document)


# --- the loop and the decision ---------------------------------------------------------------------


def test_platform_failures_never_open_a_service_incident_however_many():
    stops = [replace(failure(n, category="network"), cause="platform") for n in range(1, 10)]
    state, transitions = feed(fresh(), stops)
    assert transitions == []
    assert state.revisions[NEW].failures_since_healthy == 0


def test_configuration_failures_open_an_incident_that_is_told_not_rolled_back():
    stops = [failure(n, category="network") for n in range(1, 4)]  # the category's cause: configuration
    _, transitions = feed(fresh(), stops)
    (opened,) = transitions
    assert opened.incident.cause == "configuration" and not opened.incident.containment_eligible
    action = decide(deploying(old_running=2), the_incident=opened.incident, guards=facts())
    assert action.kind is ActionKind.NOTIFY_ONLY and not action.calls
    assert "networkConfiguration.awsvpcConfiguration" in action.reason


def test_an_elb_check_the_last_known_good_passed_is_the_new_revisions_fault():
    # Seed 004: revision 8 fails the same target group's check revision 7 passed.
    _, transitions = feed(fresh(lkg=GOOD), [failure(n, category="health_check_elb") for n in range(1, 4)])
    (opened,) = transitions
    assert opened.incident.cause == "revision" and opened.incident.containment_eligible
    assert decide(deploying(old_running=2), the_incident=opened.incident).kind is ActionKind.ROLLBACK_DEPLOYMENT


def test_an_elb_check_with_no_last_known_good_is_the_configurations():
    _, transitions = feed(fresh(lkg=None), [failure(n, category="health_check_elb") for n in range(1, 4)])
    (opened,) = transitions
    assert opened.incident.cause == "configuration" and not opened.incident.containment_eligible


def test_one_revision_failure_among_platform_ones_still_lets_the_watchdog_act():
    stops = [failure(1, category="image"), failure(2, category="image"), failure(3, category="image")]
    state, (opened,) = feed(fresh(), stops)
    state, _ = feed(state, [replace(failure(4, category="capacity"), cause="platform")])
    incident = state.incidents[opened.incident.id]
    assert incident.causes == {"revision": 3, "platform": 1} and incident.containment_eligible


# --- the cluster's infrastructure incident ---------------------------------------------------------


def platform_failure(memory: ClusterInfrastructure, n: int, service: str = "my-cluster/api", minute: float = 0):
    return apply_platform_failure(
        memory,
        ACCOUNT,
        service=service,
        category="network",
        task_id=f"task{n}",
        at=T0 + timedelta(minutes=minute or n),
        summary="Timeout waiting for network interface provisioning to complete.",
        policy=POLICY,
    )


def test_platform_failures_in_a_cluster_open_one_infrastructure_incident_told_once():
    memory, transitions = ClusterInfrastructure(cluster="my-cluster"), []
    for n, service in enumerate(["my-cluster/api", "my-cluster/web", "my-cluster/api", "my-cluster/web"], 1):
        decision = platform_failure(memory, n, service)
        memory, transitions = decision.cluster, transitions + decision.transitions
    (opened,) = transitions
    assert opened.kind is TransitionKind.OPENED and opened.incident.kind is IncidentKind.INFRASTRUCTURE
    assert not opened.incident.containment_eligible
    assert "my-cluster/api, my-cluster/web" in opened.summary and "No rollback fixes this" in opened.summary
    assert memory.incident is not None and memory.incident.failures == 4


def test_a_redelivered_platform_failure_counts_once():
    memory = platform_failure(ClusterInfrastructure(cluster="my-cluster"), 1).cluster
    again = platform_failure(memory, 1)
    assert not again.changed and len(again.cluster.failures) == 1


def test_the_infrastructure_incident_resolves_after_a_quiet_window():
    memory = ClusterInfrastructure(cluster="my-cluster")
    for n in (1, 2, 3):
        memory = platform_failure(memory, n).cluster
    later = platform_failure(memory, 4, minute=3 + 16)
    assert [t.kind for t in later.transitions] == [TransitionKind.RESOLVED]


def instance_health(memory: ClusterInfrastructure, status: str, minute: int, services=("my-cluster/api",)):
    return apply_instance_health(
        memory,
        ACCOUNT,
        instance_arn=INSTANCE,
        ec2_instance_id="i-0abcdef1234567890",
        status=status,
        services=list(services),
        checks=["CONTAINER_RUNTIME IMPAIRED: the Docker daemon does not answer"] if status == "IMPAIRED" else [],
        at=T0 + timedelta(minutes=minute),
        policy=POLICY,
    )


def test_an_impaired_instance_opens_the_clusters_incident_naming_its_services_and_ok_resolves_it():
    opened = instance_health(ClusterInfrastructure(cluster="my-cluster"), "IMPAIRED", 0)
    (transition,) = opened.transitions
    assert "i-0abcdef1234567890 is IMPAIRED" in transition.summary and "my-cluster/api" in transition.summary
    assert "CONTAINER_RUNTIME IMPAIRED" in transition.summary
    again = instance_health(opened.cluster, "IMPAIRED", 0)
    assert again.transitions == [] and not again.changed  # a redelivery tells nobody twice
    resolved = instance_health(opened.cluster, "OK", 5)
    assert [t.kind for t in resolved.transitions] == [TransitionKind.RESOLVED]
    assert resolved.cluster.incident is not None and resolved.cluster.incident.status is IncidentStatus.RESOLVED


def test_platform_failures_during_an_impaired_instance_add_to_its_incident_silently():
    memory = instance_health(ClusterInfrastructure(cluster="my-cluster"), "IMPAIRED", 0).cluster
    for n in (1, 2, 3, 4):
        decision = platform_failure(memory, n, "my-cluster/web")
        assert decision.transitions == []
        memory = decision.cluster
    assert memory.incident is not None
    assert affected_services(memory.incident) == ["my-cluster/api", "my-cluster/web"]


@pytest.mark.parametrize("status", ["INITIALIZING", "INSUFFICIENT_DATA"])
def test_other_instance_statuses_change_nothing(status):
    decision = instance_health(ClusterInfrastructure(cluster="my-cluster"), status, 0)
    assert not decision.changed and decision.transitions == []


def test_tasks_that_cannot_start_for_platform_causes_open_no_service_incident():
    stops = [replace(failure(n, category="network"), cause="platform") for n in (1, 2)]
    state, _ = feed(fresh(), stops)
    result = apply_service_action(state, "SERVICE_TASK_START_IMPAIRED", T_LATER, "", None, POLICY)
    assert result.transitions == [] and "infrastructure incident" in result.note


def test_tasks_that_cannot_start_for_a_revision_cause_still_open_one():
    state, _ = feed(fresh(), [failure(1, category="image")])
    result = apply_service_action(state, "SERVICE_TASK_START_IMPAIRED", T_LATER, "", None, POLICY)
    assert [t.incident.kind for t in result.transitions] == [IncidentKind.START_IMPAIRED]
