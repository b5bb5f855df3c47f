"""The rules' event patterns, as synthesized, against sample ECS events routed by moto's EventBridge.

moto does not implement TestEventPattern, but it matches rules (with `$or`) when events are put on
the bus: each sample goes through a rule with the synthesized pattern to an SQS queue, and what
arrives is what matched.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_cdk.assertions import Template
from moto import mock_aws

from tests.conftest import load_event

# Every WARN and ERROR service action in the ECS developer guide, and the one INFO the engine needs.
EXPECTED_SERVICE_ACTIONS = {
    "SERVICE_STEADY_STATE": "INFO",
    "SERVICE_TASK_START_IMPAIRED": "WARN",
    "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY": "WARN",
    "ECS_OPERATION_THROTTLED": "ERROR",
    "SERVICE_TASK_CONFIGURATION_FAILURE": "ERROR",
    "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED": "ERROR",
    "SERVICE_DISCOVERY_OPERATION_THROTTLED": "ERROR",
    "SERVICE_TASK_PLACEMENT_FAILURE": "ERROR",
}
IGNORED_INFO_ACTIONS = ("SERVICE_DESIRED_COUNT_UPDATED", "TASKSET_STEADY_STATE", "CAPACITY_PROVIDER_STEADY_STATE")


def _service_action(event_name: str, event_type: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("service_action_task_start_impaired"))
    event["detail"].update(eventName=event_name, eventType=event_type)
    return event


def _pattern_of(template: Template, detail_type: str) -> dict[str, Any]:
    (pattern,) = [
        rule["Properties"]["EventPattern"]
        for rule in template.find_resources("AWS::Events::Rule").values()
        if rule["Properties"]["EventPattern"]["detail-type"] == [detail_type]
    ]
    return pattern


@pytest.fixture
def route() -> Iterator[Any]:
    """route(pattern, events) -> the eventNames (or ids) of the events the rule let through."""
    with mock_aws():
        events, sqs = boto3.client("events", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="matched")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        def route_events(pattern: dict[str, Any], samples: list[dict[str, Any]]) -> list[str]:
            events.put_rule(Name="under-test", EventPattern=json.dumps(pattern))
            events.put_targets(Rule="under-test", Targets=[{"Id": "queue", "Arn": queue_arn}])
            for sample in samples:
                entry = {
                    "Source": sample["source"],
                    "DetailType": sample["detail-type"],
                    "Detail": json.dumps(sample["detail"]),
                    "Resources": sample["resources"],
                }
                assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
            matched = []
            while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
                for message in messages:
                    matched.append(json.loads(message["Body"])["detail"].get("eventName", "?"))
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            return matched

        yield route_events


def test_service_action_rule_lets_through_every_warning_error_and_steady_state(template: Template, route):
    pattern = _pattern_of(template, "ECS Service Action")
    samples = [_service_action(name, kind) for name, kind in EXPECTED_SERVICE_ACTIONS.items()]
    assert sorted(route(pattern, samples)) == sorted(EXPECTED_SERVICE_ACTIONS)


@pytest.mark.parametrize("event_name", IGNORED_INFO_ACTIONS)
def test_service_action_rule_drops_other_info_events(template: Template, route, event_name):
    pattern = _pattern_of(template, "ECS Service Action")
    assert route(pattern, [_service_action(event_name, "INFO")]) == []


def test_recorded_service_action_samples_route_as_documented(template: Template, route):
    pattern = _pattern_of(template, "ECS Service Action")
    samples = [
        load_event(name)
        for name in (
            "service_action_steady_state",
            "service_action_task_start_impaired",
            "service_action_task_placement_failure_ec2_cpu",
            "service_action_capacity_provider_steady_state",
        )
    ]
    assert sorted(route(pattern, samples)) == [
        "SERVICE_STEADY_STATE",
        "SERVICE_TASK_PLACEMENT_FAILURE",
        "SERVICE_TASK_START_IMPAIRED",
    ]


def _hook_event(hook_type: str, stage: str) -> dict[str, Any]:
    """An `ECS Hook State Change` as CHECKED-FACTS describes it: resources[0] is the deployment, not the service."""
    deployment = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/api/abc"
    return {
        "source": "aws.ecs",
        "detail-type": "ECS Hook State Change",
        "resources": [deployment],
        "detail": {
            "eventName": f"HOOK_AWAITING_ACTION {hook_type} {stage}",
            "hookId": "hook-1",
            "hookType": hook_type,
            "lifecycleStage": stage,
            "expiresAt": "2026-03-01T13:00:00Z",
            "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
            "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
            "serviceDeploymentArn": deployment,
        },
    }


def test_hook_rule_lets_every_hook_state_change_through_and_nothing_else(template: Template, route):
    pattern = _pattern_of(template, "ECS Hook State Change")
    hooks = [_hook_event("PAUSE", "POST_SCALE_UP"), _hook_event("AWS_LAMBDA", "PRODUCTION_TRAFFIC_SHIFT")]
    others = [_service_action("SERVICE_STEADY_STATE", "INFO"), load_event("deployment_completed")]
    assert sorted(route(pattern, hooks + others)) == sorted(h["detail"]["eventName"] for h in hooks)


def _api_call(name: str, **detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    event["detail"].update(detail)
    return event


def test_api_call_rule_lets_through_failed_ecs_calls_only(template: Template, route):
    pattern = _pattern_of(template, "AWS API Call via CloudTrail")
    succeeded = _api_call("cloudtrail_register_task_definition_error", eventName="UpdateService")
    del succeeded["detail"]["errorCode"]
    samples = [
        load_event("cloudtrail_register_task_definition_error"),
        load_event("cloudtrail_update_service_error"),
        load_event("cloudtrail_run_task_access_denied"),
        succeeded,
        _api_call("cloudtrail_update_service_error", eventName="ListServices"),  # not a watched operation
        _api_call("cloudtrail_update_service_error", eventSource="ecr.amazonaws.com"),
    ]
    assert sorted(route(pattern, samples)) == ["RegisterTaskDefinition", "RunTask", "UpdateService"]


def test_api_call_rule_watches_every_operation_the_finding_module_knows(template: Template):
    from ecs_watchdog.api_errors.findings import WATCHED_OPERATIONS

    pattern = _pattern_of(template, "AWS API Call via CloudTrail")
    assert sorted(pattern["detail"]["eventName"]) == sorted(WATCHED_OPERATIONS)


def _instance_health(status: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("container_instance_health_ok"))
    event["detail"].update(overallStatus=status, eventName=status)  # eventName: how `route` reports it
    return event


def test_container_instance_health_rule_lets_every_status_through_and_nothing_else(template: Template, route):
    pattern = _pattern_of(template, "ECS Container Instance Health Change")
    assert pattern == {"source": ["aws.ecs"], "detail-type": ["ECS Container Instance Health Change"]}
    statuses = ["IMPAIRED", "OK", "INSUFFICIENT_DATA", "INITIALIZING"]
    others = [_service_action("SERVICE_STEADY_STATE", "INFO"), load_event("deployment_completed")]
    assert sorted(route(pattern, [_instance_health(s) for s in statuses] + others)) == sorted(statuses)
