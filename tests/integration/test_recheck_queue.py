"""The deployment gate's timer against moto's SQS: the message comes back, with the delay SQS allows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.aws.recheck import MAX_DELAY_SECONDS, Rechecks


@pytest.fixture
def queue() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        yield sqs, sqs.create_queue(QueueName="events")["QueueUrl"]


def _sent_delays(sqs: Any) -> list[int]:
    """DelaySeconds of every SendMessage made through this client, as botocore sent it."""
    delays: list[int] = []
    sqs.meta.events.register(
        "provide-client-params.sqs.SendMessage", lambda params, **_: delays.append(params["DelaySeconds"])
    )
    return delays


def test_a_recheck_with_no_delay_is_on_the_queue_with_its_body(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    message_id = Rechecks(sqs, url).later('{"recheck": "hook-1"}', 0)
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert (message["MessageId"], message["Body"]) == (message_id, '{"recheck": "hook-1"}')


def test_a_delayed_recheck_is_not_visible_before_its_delay(queue: tuple[Any, str]) -> None:
    sqs, url = queue
    Rechecks(sqs, url).later("later", 120)
    assert sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []


@pytest.mark.parametrize(("asked", "sent"), [(3600, MAX_DELAY_SECONDS), (900, 900), (61, 61), (-5, 0)])
def test_the_delay_is_clamped_to_what_sqs_accepts(queue: tuple[Any, str], asked: int, sent: int) -> None:
    sqs, url = queue
    delays = _sent_delays(sqs)
    Rechecks(sqs, url).later("body", asked)
    assert delays == [sent]
