"""Integration fixtures: a moto account with one ECS service and the handler wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.aws.slack_messages import SlackMessages
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from tests.integration.service_setup import create_service


@pytest.fixture
def account() -> Iterator[LocalAccount]:
    with local_account() as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        yield sandbox


@pytest.fixture
def messages() -> Iterator[SlackMessages]:
    """The Slack bot's living-message store over a state table of its own, on moto."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="ecs-watchdog-state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield SlackMessages(client, "ecs-watchdog-state")
