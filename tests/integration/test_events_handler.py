"""The Lambda handler against moto: batches in, partial failures out, nothing silently dropped."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, sqs_batch
from ecs_watchdog.replay.sandbox import local_account
from ecs_watchdog.wiring.settings import Settings
from tests.conftest import load_event
from tests.integration.incident_events import benign, bodies, stopped
from tests.integration.service_setup import create_service, invoke


def test_batch_with_failures_a_benign_stop_and_a_malformed_record(account):
    records = [
        *bodies(stopped(1, 1), stopped(2, 2), benign(3, 3), stopped(4, 4)),
        '{"detail-type": "ECS Task State Change"',
    ]
    response = invoke(records)
    assert response["batchItemFailures"] == []  # the malformed one is parked, not retried five times
    (sns,) = account.sns_messages()  # three failures of one revision: one incident, one message
    assert sns["Subject"] == "[ecs-watchdog] OPENED prod/api: Failing deployment (image)"
    assert sns["MessageAttributes"]["category"]["Value"] == "image"
    assert "api:v9" in json.dumps(account.slack.payloads)
    (parked,) = account.parked()
    assert parked["body"] == records[4]
    assert parked["attributes"]["ecs-watchdog-parked-reason"].startswith("malformed: not JSON")
    assert parked["attributes"]["ecs-watchdog-original-message-id"] == sqs_batch(records)["Records"][4]["messageId"]


def test_records_that_can_never_succeed_are_parked_each_with_its_reason(account, caplog):
    naive_time = stopped(1, 1)
    naive_time["time"] = "2025-07-21T08:01:00"
    records = [
        "not json",
        json.dumps({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}),
        json.dumps({"source": "aws.ecs", "detail-type": "ECS Container Instance State Change", "detail": {}}),
        json.dumps(naive_time),
        "[" * 5000 + "]" * 5000,
    ]
    assert invoke(records)["batchItemFailures"] == []
    reasons = [p["attributes"]["ecs-watchdog-parked-reason"] for p in account.parked()]
    assert len(reasons) == 5 and account.sns_messages() == []
    assert "time has no time zone" in reasons[3] and "nested too deeply" in reasons[4]
    parked_logs = [r for r in caplog.records if r.getMessage().startswith("record can never succeed")]
    assert [r.reason for r in parked_logs] == reasons and {r.levelname for r in parked_logs} == {"ERROR"}


def test_an_event_that_cannot_be_stored_is_parked_not_retried(account):
    unstorable = stopped(1, 1)
    unstorable["detail"]["stoppedReason"] = "CannotPullContainerError: \ud800 lone surrogate"
    body = json.dumps(unstorable).replace("\\\\ud800", "\\ud800")  # a JSON escape of a lone surrogate
    assert "\\ud800" in body
    assert invoke([body])["batchItemFailures"] == []
    (parked,) = account.parked()
    assert parked["attributes"]["ecs-watchdog-parked-reason"].startswith("unstorable:")


def test_a_record_that_fails_for_a_passing_reason_is_logged_with_the_reason_and_retried(caplog):
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        response = invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert len(response["batchItemFailures"]) == 1
    (failed,) = [r for r in caplog.records if r.getMessage().startswith("record failed")]
    assert failed.levelname == "ERROR" and "slack" in failed.problem and "500" in failed.problem


def test_a_raw_eventbridge_event_from_the_console_is_processed_and_answered_as_json(account):
    for n in (1, 2):
        assert ecs_events.handler(stopped(n, n), LocalLambdaContext())["outcome"] == "counted"
    answer = ecs_events.handler(stopped(3, 3), LocalLambdaContext())
    assert answer["outcome"] == "transition" and answer["category"] == "image" and answer["failure"] is True
    (transition,) = answer["transitions"]
    assert transition["kind"] == "opened" and transition["incident_kind"] == "failing_deployment"
    assert sorted(answer["channels"]) == ["slack", "sns"]
    assert json.loads(json.dumps(answer)) == answer  # plain JSON, as the console shows it


def test_any_other_console_payload_gets_an_error_answer_not_an_exception(account):
    for payload in ({}, {"key1": "value1"}, {"source": "aws.ecs", "detail-type": "ECS Task State Change"}, []):
        answer = ecs_events.handler(payload, LocalLambdaContext())
        assert set(answer) == {"error"} and answer["error"]


def test_slack_down_fails_the_record_so_sqs_retries_it():
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        records = bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3), benign(4, 4))
        response = invoke(records)
    assert response["batchItemFailures"] == [{"itemIdentifier": sqs_batch(records)["Records"][2]["messageId"]}]


def test_without_a_slack_secret_incidents_go_to_sns_only(account):
    settings = account.settings.model_copy(update={"slack_secret_name": None})
    ecs_events.install(settings, account.session)
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
