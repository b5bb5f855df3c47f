"""The Lambda handler against moto: a batch in, findings out to SNS and Slack, bad records retried."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, sqs_batch
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.wiring import Settings, build_pipeline

from tests.conftest import load_event

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v9"
PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
    f"failed to resolve ref {IMAGE}: {IMAGE}: not found"
)


def failed_launch() -> dict:
    event = load_event("task_state_change_stopped")
    event["detail"].update(stopCode="TaskFailedToStart", stoppedReason=PULL_ERROR, group="service:api")
    event["detail"]["containers"][0].update(exitCode=None, reason=PULL_ERROR, image=IMAGE)
    return event


def benign_stop() -> dict:
    return load_event("task_state_change_stopped")  # "Task stopped by user"


@pytest.fixture
def account() -> Iterator[LocalAccount]:
    with local_account() as sandbox:
        ecs_events.install_pipeline(build_pipeline(sandbox.settings, sandbox.session))
        yield sandbox


def invoke(bodies: list[str]) -> dict:
    return ecs_events.handler(sqs_batch(bodies), LocalLambdaContext())


def test_batch_with_failure_benign_stop_and_malformed_record(account):
    bodies = [
        json.dumps(failed_launch()),
        json.dumps(benign_stop()),
        '{"detail-type": "ECS Task State Change"',
    ]
    response = invoke(bodies)

    assert response["batchItemFailures"] == [{"itemIdentifier": sqs_batch(bodies)["Records"][2]["messageId"]}]
    sns = account.sns_messages()
    assert len(sns) == 1 and len(account.slack.payloads) == 1
    assert sns[0]["Subject"] == "[ecs-watchdog] Features/api: Image tag or repository not found"
    assert sns[0]["MessageAttributes"]["category"]["Value"] == "image"
    assert "api:v9" in account.slack.payloads[0]["text"]


def test_a_batch_of_only_malformed_records_reports_each_instead_of_raising(account):
    bodies = [
        "not json",
        json.dumps({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}),
    ]
    response = invoke(bodies)
    assert len(response["batchItemFailures"]) == 2
    assert account.sns_messages() == []


def test_slack_down_fails_the_record_so_sqs_retries_it():
    with local_account(slack_status=500) as sandbox:
        ecs_events.install_pipeline(build_pipeline(sandbox.settings, sandbox.session))
        bodies = [json.dumps(failed_launch()), json.dumps(benign_stop())]
        response = invoke(bodies)
    assert response["batchItemFailures"] == [{"itemIdentifier": sqs_batch(bodies)["Records"][0]["messageId"]}]


def test_without_a_slack_secret_findings_go_to_sns_only(account):
    settings = Settings(topic_arn=account.settings.topic_arn)
    ecs_events.install_pipeline(build_pipeline(settings, account.session))
    assert invoke([json.dumps(failed_launch())])["batchItemFailures"] == []
    assert len(account.sns_messages()) == 1 and account.slack.payloads == []


def test_the_task_definition_says_which_container_is_essential(account):
    ecs = account.session.client("ecs")
    ecs.register_task_definition(
        family="webapp",
        containerDefinitions=[
            {"name": "Webapp", "image": "webapp:1", "memory": 128, "essential": True},
            {"name": "envoy", "image": "envoy:1", "memory": 64, "essential": False},
        ],
    )
    event = load_event("task_state_change_stopped")
    event["detail"].update(
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        taskDefinitionArn="arn:aws:ecs:us-east-1:123456789012:task-definition/webapp:1",
    )
    event["detail"]["containers"] = [{"name": "envoy", "exitCode": 2}, {"name": "Webapp", "exitCode": 139}]
    assert invoke([json.dumps(event)])["batchItemFailures"] == []
    body = account.sns_messages()[0]["Message"]
    assert "Essential container Webapp of webapp:1 exited: segmentation fault" in body


def test_standalone_tasks_and_running_tasks_send_nothing(account):
    standalone = failed_launch()
    standalone["detail"]["group"] = "family:batch-job"
    running = load_event("task_state_change_running")
    assert invoke([json.dumps(standalone), json.dumps(running)])["batchItemFailures"] == []
    assert account.sns_messages() == [] and account.slack.payloads == []


def test_missing_topic_configuration_fails_loudly_naming_the_variable():
    with pytest.raises(RuntimeError, match="ALERTS_TOPIC_ARN"):
        Settings.from_environment({})
