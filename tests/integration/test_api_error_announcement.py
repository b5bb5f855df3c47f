"""Failed ECS API calls against a moto state table: one announcement per finding, whatever is redelivered."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.announce.channels import ChannelDown
from ecs_watchdog.announce.outbox import DeliveryFailed, Outbox
from ecs_watchdog.api_errors.step import announce_api_error
from ecs_watchdog.aws.api_error_store import ApiErrorStore, api_error_key
from ecs_watchdog.events import ApiCallErrorEvent, parse_envelope
from ecs_watchdog.incidents.model import Transition
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.conftest import load_event

NOW = datetime(2025, 7, 21, 8, 5, tzinfo=UTC)


@dataclass
class RecordingChannel:
    name: str
    failures: int = 0  # the next N sends fail (a passing error)
    down: int = 0  # the next N sends find the channel not answering (ChannelDown)
    sent: list[tuple[str, str]] = field(default_factory=list)

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        if self.failures:
            self.failures -= 1
            raise TimeoutError("channel timed out")
        if self.down:
            self.down -= 1
            raise ChannelDown("Slack did not answer within 5 s")
        self.sent.append((transition.id, ref.label))


@pytest.fixture
def store() -> Iterator[tuple[ApiErrorStore, Any]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield ApiErrorStore(client, "state"), client


def _event(event_id: str = "e1", minutes: int = 0) -> ApiCallErrorEvent:
    raw = copy.deepcopy(load_event("cloudtrail_register_task_definition_error"))
    raw["detail"]["eventID"] = event_id
    raw["detail"]["eventTime"] = (datetime(2025, 7, 21, 8, 2, 11, tzinfo=UTC) + timedelta(minutes=minutes)).isoformat()
    event = parse_envelope(raw)
    assert isinstance(event, ApiCallErrorEvent)
    return event


def _outbox(*channels: RecordingChannel) -> Outbox:
    return Outbox(list(channels), clock=lambda: NOW, lease=timedelta(seconds=90), pause=lambda n: None)


def test_seed_001_rejection_is_announced_once_and_its_retries_are_counted(store):
    states, client = store
    sns, slack = RecordingChannel("sns"), RecordingChannel("slack")
    outbox = _outbox(sns, slack)
    first = announce_api_error(_event("e1"), states, outbox, NOW)
    again = announce_api_error(_event("e1"), states, outbox, NOW)  # SQS redelivers the same record
    retry = announce_api_error(_event("e2", minutes=3), states, outbox, NOW)  # the script ran again
    assert (first.kind, again.kind, retry.kind) == ("finding", "duplicate", "counted")
    assert retry.count == 2
    assert [label for _, label in sns.sent] == ["task-definition/backend"]
    assert slack.sent == sns.sent
    item = client.get_item(TableName="state", Key=api_error_key("123456789012/us-east-1/backend"))["Item"]
    stored = states.load("123456789012/us-east-1/backend")
    assert stored is not None and stored.outbox == [] and int(item["rev"]["N"]) == stored.revision


def test_a_channel_that_failed_gets_the_finding_on_the_retry_and_the_other_channel_not_twice(store):
    states, _ = store
    sns, slack = RecordingChannel("sns"), RecordingChannel("slack", failures=1)
    outbox = _outbox(sns, slack)
    with pytest.raises(DeliveryFailed, match="slack"):
        announce_api_error(_event("e1"), states, outbox, NOW)
    retried = announce_api_error(_event("e1"), states, outbox, NOW)  # SQS hands the record back
    assert retried.kind == "duplicate" and retried.channels == ("slack",)
    assert len(sns.sent) == 1 and len(slack.sent) == 1
    stored = states.load("123456789012/us-east-1/backend")
    assert stored is not None and stored.outbox == []


def test_a_finding_a_channel_down_did_not_take_goes_back_to_sqs_as_the_sweep_never_ticks_findings(store):
    states, _ = store
    sns, slack = RecordingChannel("sns"), RecordingChannel("slack", down=1)
    outbox = _outbox(sns, slack)
    with pytest.raises(DeliveryFailed, match="slack: deferred"):
        announce_api_error(_event("e1"), states, outbox, NOW)
    outbox.budget.begin(None)  # SQS's retry arrives in a later invocation
    retried = announce_api_error(_event("e1"), states, outbox, NOW)
    assert retried.channels == ("slack",) and len(sns.sent) == 1 and len(slack.sent) == 1
    stored = states.load("123456789012/us-east-1/backend")
    assert stored is not None and stored.outbox == []
