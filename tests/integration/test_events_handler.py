"""The Lambda handler against moto: batches in, partial failures out, nothing silently dropped."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import sqs_batch
from ecs_watchdog.replay.sandbox import local_account
from ecs_watchdog.wiring import Settings, build_pipeline
from tests.conftest import load_event
from tests.integration.incident_events import benign, bodies, stopped
from tests.integration.service_setup import create_service, invoke


def test_batch_with_failures_a_benign_stop_and_a_malformed_record(account):
    records = [
        *bodies(stopped(1, 1), stopped(2, 2), benign(3, 3), stopped(4, 4)),
        '{"detail-type": "ECS Task State Change"',
    ]
    response = invoke(records)
    assert response["batchItemFailures"] == [{"itemIdentifier": sqs_batch(records)["Records"][4]["messageId"]}]
    (sns,) = account.sns_messages()  # three failures of one revision: one incident, one message
    assert sns["Subject"] == "[ecs-watchdog] OPENED prod/api: Failing deployment (image)"
    assert sns["MessageAttributes"]["category"]["Value"] == "image"
    assert "api:v9" in json.dumps(account.slack.payloads)


def test_a_batch_of_only_malformed_records_reports_each_instead_of_raising(account):
    records = [
        "not json",
        json.dumps({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}),
        json.dumps({"source": "aws.ecs", "detail-type": "ECS Container Instance State Change", "detail": {}}),
    ]
    assert len(invoke(records)["batchItemFailures"]) == 3
    assert account.sns_messages() == []


def test_slack_down_fails_the_record_so_sqs_retries_it():
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install_pipeline(build_pipeline(sandbox.settings, sandbox.session))
        records = bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3), benign(4, 4))
        response = invoke(records)
    assert response["batchItemFailures"] == [{"itemIdentifier": sqs_batch(records)["Records"][2]["messageId"]}]


def test_without_a_slack_secret_incidents_go_to_sns_only(account):
    settings = account.settings.model_copy(update={"slack_secret_name": None})
    ecs_events.install_pipeline(build_pipeline(settings, account.session))
    assert invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))["batchItemFailures"] == []
    assert len(account.sns_messages()) == 1 and account.slack.payloads == []


def test_the_task_definition_says_which_container_is_essential(account):
    ecs = account.session.client("ecs")
    arn = ecs.register_task_definition(
        family="webapp",
        containerDefinitions=[
            {"name": "web", "image": "webapp:1", "memory": 128, "essential": True},
            {"name": "envoy", "image": "envoy:1", "memory": 64, "essential": False},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    events = []
    for n in range(3):
        event = stopped(n, n, reason="Essential container in task exited", stop_code="EssentialContainerExited")
        event["detail"]["taskDefinitionArn"] = arn
        event["detail"]["containers"] = [{"name": "envoy", "exitCode": 2}, {"name": "web", "exitCode": 139}]
        events.append(event)
    assert invoke(bodies(*events))["batchItemFailures"] == []
    (message,) = account.sns_messages()
    assert "Essential container web of webapp:1 exited: segmentation fault" in message["Message"]


def test_standalone_tasks_and_running_tasks_send_nothing(account):
    standalone = [stopped(n, n) for n in range(3)]
    for event in standalone:
        event["detail"]["group"] = "family:batch-job"
    running = load_event("task_state_change_running")
    assert invoke(bodies(*standalone, running))["batchItemFailures"] == []
    assert account.sns_messages() == [] and account.slack.payloads == []


def test_missing_configuration_fails_loudly_naming_the_variables():
    with pytest.raises(RuntimeError, match="ALERTS_TOPIC_ARN, STATE_TABLE_NAME"):
        Settings.from_environment({})
    with pytest.raises(RuntimeError, match="FAILURE_THRESHOLD"):
        Settings.from_environment({"ALERTS_TOPIC_ARN": "arn", "STATE_TABLE_NAME": "t", "FAILURE_THRESHOLD": "0"})


def test_a_misconfigured_function_fails_the_invocation_not_each_record(monkeypatch):
    monkeypatch.setattr(ecs_events, "_intake", None)
    monkeypatch.delenv("ALERTS_TOPIC_ARN", raising=False)
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    with pytest.raises(RuntimeError, match="ALERTS_TOPIC_ARN"):
        invoke(bodies(stopped(1, 1)))
