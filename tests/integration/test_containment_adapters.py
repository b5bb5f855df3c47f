"""Containment's adapters against moto: UpdateService, TagResource, DescribeServices, Application
Auto Scaling, the SSM kill switch and the EventBridge audit event; dry-run proven by a hook that
fails the test if any write reaches moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from ecs_watchdog.aws.audit import DETAIL_TYPE, SOURCE, AuditEvents
from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.kill_switch import KillSwitch
from ecs_watchdog.contain.decision import decide_containment
from ecs_watchdog.contain.execute import carry_out
from ecs_watchdog.contain.guards import GuardFacts
from ecs_watchdog.contain.models import (
    PREVIOUS_DESIRED_COUNT_TAG,
    ActionKind,
    ContainmentPolicy,
    Mode,
    Outcome,
    ServiceTagAction,
)
from ecs_watchdog.contain.undo import plan_undo
from ecs_watchdog.incidents.model import Incident, IncidentKind

REGION, CLUSTER, SERVICE = "us-east-1", "prod", "api"
RESOURCE_ID = f"service/{CLUSTER}/{SERVICE}"
READS = ("Describe", "List", "Get")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DEPLOYMENT_ARN = f"arn:aws:ecs:{REGION}:123456789012:service-deployment/{CLUSTER}/{SERVICE}/moto"


@pytest.fixture
def aws() -> Iterator[boto3.Session]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ecs = session.client("ecs")
        ecs.create_cluster(clusterName=CLUSTER)
        task_definition = ecs.register_task_definition(
            family="api", containerDefinitions=[{"name": "api", "image": "x", "memory": 128}]
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=SERVICE,
            taskDefinition=task_definition,
            desiredCount=3,
            tags=[{"key": "team", "value": "payments"}],
        )
        session.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=RESOURCE_ID,
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=2,
            MaxCapacity=6,
        )
        yield session


def adapter(session: boto3.Session, *, dry_run: bool = False) -> EcsActions:
    ecs = session.client("ecs")
    ecs.meta.events.register("before-call.ecs.ListServiceDeployments", answer_list_service_deployments)
    return EcsActions(ecs, session.client("application-autoscaling"), dry_run=dry_run)


def answer_list_service_deployments(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """moto 5.2.5 lacks ListServiceDeployments: answer as ECS would for moto's IN_PROGRESS deployment."""
    assert json.loads(params["body"])["status"] == ["IN_PROGRESS"]
    return AWSResponse("https://ecs.test.invalid/", 200, {}, None), {
        "serviceDeployments": [{"serviceDeploymentArn": DEPLOYMENT_ARN, "status": "IN_PROGRESS"}]
    }


def first_incident_of(task_definition: str) -> Incident:
    return Incident(
        id="inc-1",
        service=f"123456789012/{REGION}/{CLUSTER}/{SERVICE}",
        kind=IncidentKind.FAILING_DEPLOYMENT,
        category="image",
        task_definition=task_definition,
        opened_at=NOW,
        updated_at=NOW,
    )


def test_describe_service_view_reads_counts_tags_controller_and_scaling(aws: boto3.Session) -> None:
    view = adapter(aws).describe_service_view(CLUSTER, SERVICE)
    assert view is not None
    assert view.desired_count == 3
    assert view.deployment_controller == "ECS"
    assert view.tags == {"team": "payments"}
    assert view.scaling is not None and (view.scaling.min_capacity, view.scaling.max_capacity) == (2, 6)
    assert view.deployments and view.deployments[0].task_definition == view.task_definition
    assert view.in_progress_service_deployment_arn == DEPLOYMENT_ARN


def test_describe_service_view_of_an_unknown_service_is_none(aws: boto3.Session) -> None:
    assert adapter(aws).describe_service_view(CLUSTER, "nope") is None
    assert adapter(aws).describe_service_view("no-cluster", SERVICE) is None


def test_scale_to_zero_then_undo_round_trip(aws: boto3.Session) -> None:
    """Decide on the moto service with nothing running and no last known good, act, then undo."""
    actions = adapter(aws)
    view = actions.describe_service_view(CLUSTER, SERVICE)
    assert view is not None and view.running_count == 0
    action = decide_containment(
        first_incident_of(view.task_definition),
        view,
        last_known_good=None,
        policy=ContainmentPolicy(mode=Mode.ENFORCE),
        service_tag_action=ServiceTagAction.AUTO,
        guards=GuardFacts(now=NOW),
    )
    assert action.kind is ActionKind.SCALE_TO_ZERO
    reread = actions.describe_service_view(CLUSTER, SERVICE)
    assert reread is not None
    record = carry_out(action, reread, actions, NOW)
    assert record.outcome is Outcome.DONE, record.error

    after = actions.describe_service_view(CLUSTER, SERVICE)
    assert after is not None and after.desired_count == 0
    assert after.tags[PREVIOUS_DESIRED_COUNT_TAG] == "3"
    assert after.scaling is not None and after.scaling.dynamic_scaling_out_suspended

    undo = plan_undo(after, record, service=action.service, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.RESTORE_DESIRED_COUNT
    assert carry_out(undo, after, actions, NOW).outcome is Outcome.DONE
    restored = actions.describe_service_view(CLUSTER, SERVICE)
    assert restored is not None and restored.desired_count == 3
    assert PREVIOUS_DESIRED_COUNT_TAG not in restored.tags
    assert restored.scaling is not None and not restored.scaling.dynamic_scaling_out_suspended


def test_update_service_rolls_the_task_definition(aws: boto3.Session) -> None:
    ecs = aws.client("ecs")
    older = ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "y", "memory": 128}]
    )
    target = older["taskDefinition"]["taskDefinitionArn"]
    adapter(aws).update_service(CLUSTER, SERVICE, task_definition=target)
    assert ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"] == target


def test_dry_run_reaches_no_write_in_moto(aws: boto3.Session) -> None:
    ecs, autoscaling = aws.client("ecs"), aws.client("application-autoscaling")
    writes: list[str] = []

    def refuse_writes(model: Any, **_: Any) -> None:
        if not model.name.startswith(READS):
            writes.append(model.name)
            raise AssertionError(f"dry-run made {model.name}")

    ecs.meta.events.register("before-call.ecs.ListServiceDeployments", answer_list_service_deployments)
    for client in (ecs, autoscaling):
        client.meta.events.register("before-call.*.*", refuse_writes)
    actions = EcsActions(ecs, autoscaling, dry_run=True)
    view = actions.describe_service_view(CLUSTER, SERVICE)
    assert view is not None
    calls = [
        actions.update_service(CLUSTER, SERVICE, desired_count=0),
        actions.tag_service(view.service_arn, {PREVIOUS_DESIRED_COUNT_TAG: "3"}),
        actions.suspend_scaling(RESOURCE_ID),
        actions.stop_service_deployment("arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/api/x"),
    ]
    assert writes == []
    assert calls[0].params == {"cluster": CLUSTER, "service": SERVICE, "desiredCount": 0}
    unchanged = actions.describe_service_view(CLUSTER, SERVICE)
    assert unchanged is not None and unchanged.desired_count == 3 and unchanged.tags == {"team": "payments"}


def test_kill_switch_missing_parameter_is_not_engaged(aws: boto3.Session) -> None:
    assert KillSwitch(aws.client("ssm"), "/ecs-watchdog/kill-switch").engaged() is False


@pytest.mark.parametrize(("value", "engaged"), [("on", True), ("off", False), ("ENGAGED", True), ("maybe", True)])
def test_kill_switch_values(aws: boto3.Session, value: str, engaged: bool) -> None:
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/ecs-watchdog/kill-switch", Value=value, Type="String")
    assert KillSwitch(ssm, "/ecs-watchdog/kill-switch").engaged() is engaged


def test_kill_switch_is_cached_for_its_max_age(aws: boto3.Session) -> None:
    ssm = aws.client("ssm")
    ssm.put_parameter(Name="/ks", Value="off", Type="String")
    now = [0.0]
    switch = KillSwitch(ssm, "/ks", max_age_seconds=30, clock=lambda: now[0])
    assert switch.engaged() is False
    ssm.put_parameter(Name="/ks", Value="on", Type="String", Overwrite=True)
    now[0] = 29.0
    assert switch.engaged() is False  # still the cached answer
    now[0] = 30.0
    assert switch.engaged() is True


def test_audit_event_reaches_a_rule_on_the_default_bus(aws: boto3.Session) -> None:
    sqs, events = aws.client("sqs"), aws.client("events")
    queue_url = sqs.create_queue(QueueName="audit")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="audit", EventPattern=json.dumps({"source": [SOURCE], "detail-type": [DETAIL_TYPE]}))
    events.put_targets(Rule="audit", Targets=[{"Id": "q", "Arn": queue_arn}])

    actions = adapter(aws, dry_run=True)
    view = actions.describe_service_view(CLUSTER, SERVICE)
    assert view is not None
    action = decide_containment(
        first_incident_of(view.task_definition),
        view,
        last_known_good=None,
        policy=ContainmentPolicy(mode=Mode.DRY_RUN),
        service_tag_action=ServiceTagAction.AUTO,
        guards=GuardFacts(now=NOW),
    )
    record = carry_out(action, view, actions, NOW)
    event_id = AuditEvents(events).emit(record)
    assert event_id

    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(messages[0]["Body"])
    assert (event["source"], event["detail-type"]) == (SOURCE, DETAIL_TYPE)
    assert event["detail"]["outcome"] == "dry_run"
    assert event["detail"]["action"]["kind"] == "scale_to_zero"
    assert event["detail"]["action"]["before"]["desired_count"] == 3
    assert event["detail"]["action"]["calls"][-1]["params"] == {
        "cluster": CLUSTER,
        "service": SERVICE,
        "desiredCount": 0,
    }
