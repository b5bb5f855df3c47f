"""The diagnose Lambda handler against a moto account: a report by service or task, posting to SNS."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.handlers import diagnose
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.wiring.diagnose import DiagnoseSettings
from tests.integration.diagnose_account import CLUSTER, SERVICE, create_diagnosable_service

REGION = "us-east-1"


@pytest.fixture
def account() -> Iterator[tuple[boto3.Session, dict[str, str], str]]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        created = create_diagnosable_service(session)
        topic = session.client("sns").create_topic(Name="alerts")["TopicArn"]
        yield session, created, topic


def test_console_request_by_task_returns_the_report_and_posts_it_to_sns(account):
    session, created, topic = account
    queue = session.client("sqs").create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = session.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    session.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    diagnose.install(DiagnoseSettings(topic_arn=topic), session)
    answer = diagnose.handler({"taskArn": created["task"], "post": True}, LocalLambdaContext())
    assert (answer["cluster"], answer["service"], answer["task"]) == (CLUSTER, SERVICE, created["task"])
    assert {p["name"] for p in answer["probes"]} >= {"image", "secrets", "logging", "network"}
    assert (answer["posted"], answer["not_posted"]) == (["sns"], {})
    (message,) = session.client("sqs").receive_message(QueueUrl=queue)["Messages"]
    assert f"diagnosis — {SERVICE} in {CLUSTER}" in json.loads(message["Body"])["Message"]


def test_console_errors_are_answers_not_exceptions(account):
    session, created, _ = account
    diagnose.install(DiagnoseSettings(), session)
    assert (
        "give cluster and service, or taskArn" in diagnose.handler({"cluster": CLUSTER}, LocalLambdaContext())["error"]
    )
    answer = diagnose.handler({"taskArn": created["standalone_task"]}, LocalLambdaContext())
    assert "was not started by a service" in answer["error"]


def test_secret_values_are_read_only_when_the_deployment_opts_in(account):
    session, _, _ = account
    event = {"cluster": CLUSTER, "service": SERVICE}
    diagnose.install(DiagnoseSettings.from_environment({}), session)
    plain = diagnose.handler(event, LocalLambdaContext())
    assert "secretsmanager.GetSecretValue" not in plain["api_calls"]["by_operation"]
    diagnose.install(DiagnoseSettings.from_environment({"PROBE_READ_SECRET_VALUES": "true"}), session)
    opted_in = diagnose.handler(event, LocalLambdaContext())
    assert opted_in["api_calls"]["by_operation"]["secretsmanager.GetSecretValue"] == 1
    assert '"password": "x"' not in str(opted_in) and "'x'" not in str(opted_in)
