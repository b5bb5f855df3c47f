"""A Slack that accepts the connection and never answers, under the real events handler (moto for AWS, a
local TCP server for Slack): one SQS batch of 10 openings, 10 services.

Slack is tried once; after that timeout it is left alone for the rest of the invocation, so the batch
costs one timeout, not one per message (the function's timeout is 60 s). SNS takes every opening, no
record goes back to SQS, the deferred messages are counted and logged, and they stay in each service's
outbox, unleased, until the sweep's next tick delivers them — with no other event for those services.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from ecs_watchdog.aws.state_table import WATCH_INDEX, StateTable
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, sqs_batch
from ecs_watchdog.replay.sandbox import SLACK_SECRET_NAME, LocalAccount, local_account
from ecs_watchdog.wiring.settings import Settings
from ecs_watchdog.wiring.sweep import SweepLimits, build_sweep
from tests.integration.fake_slack import FakeSlack, Reply, fake_slack
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, bodies, service_action
from tests.integration.service_setup import create_service, invoke
from tests.integration.test_handler_metrics import emf_lines, totals

SERVICES = tuple(f"svc-{n:02d}" for n in range(10))
FUNCTION_TIMEOUT_SECONDS = 60  # infra/functions.py: the events function's timeout


@dataclass
class SilentSlack:
    """The sandbox with its Slack secret pointing at a server that accepts and never answers (once)."""

    sandbox: LocalAccount
    slack: FakeSlack
    settings: Settings

    def outbox(self, service: str) -> list[dict]:
        table = StateTable(self.sandbox.session.client("dynamodb"), self.settings.state_table_name)
        state = table.load_service(f"{ACCOUNT}/{REGION}/{CLUSTER}/{service}", fresh=True)
        assert state is not None
        return [t.model_dump(mode="json") for t in state.outbox]


def add_watch_index(sandbox: LocalAccount) -> None:
    """The sparse index the sweep ticks from (infra/state.py); the sandbox's table is made without it."""
    sandbox.session.client("dynamodb").update_table(
        TableName=sandbox.settings.state_table_name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("gsi1pk", "gsi1sk")],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": WATCH_INDEX,
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )


@contextmanager
def silent_slack_account() -> Iterator[SilentSlack]:
    """The sandbox, 10 services and the events handler installed over them, Slack silent."""
    # Every request is accepted and never answered, until the test says Slack is back.
    with fake_slack(Reply(hang=True)) as slack, local_account() as sandbox:
        sandbox.session.client("secretsmanager").put_secret_value(
            SecretId=SLACK_SECRET_NAME, SecretString=json.dumps({"webhook_url": slack.url})
        )
        add_watch_index(sandbox)
        for name in SERVICES:
            create_service(sandbox, name)
        # Ten services opening at once would trip the correlated-failure guard (one account message);
        # this test is about ten messages, so the guard waits for more.
        settings = sandbox.settings.model_copy(update={"correlated_services": 50})
        ecs_events.install(settings, sandbox.session)
        yield SilentSlack(sandbox, slack, settings)


@pytest.fixture
def silent_slack() -> Iterator[SilentSlack]:
    with silent_slack_account() as account:
        yield account


def openings() -> list[str]:
    """One SQS batch: SERVICE_TASK_START_IMPAIRED for each service, each opening an incident."""
    return bodies(
        *(service_action("SERVICE_TASK_START_IMPAIRED", 1 + n / 10, service=s) for n, s in enumerate(SERVICES))
    )


def test_a_batch_of_openings_costs_one_slack_timeout_and_every_message_goes_out_later(silent_slack, capsys, caplog):
    caplog.set_level(logging.INFO)
    started = time.monotonic()
    response = invoke(openings())
    elapsed = time.monotonic() - started

    assert response["batchItemFailures"] == []  # no record goes back to SQS for Slack
    sns = silent_slack.sandbox.sns_messages()
    assert sorted(m["MessageAttributes"]["service"]["Value"] for m in sns) == [f"{CLUSTER}/{s}" for s in SERVICES]
    assert all(m["Subject"].startswith("[ecs-watchdog] OPENED") for m in sns)
    assert len(silent_slack.slack.requests) == 1  # tried once, then left alone for the invocation
    for name in SERVICES:  # each opening waits for Slack: SNS took it, and nobody holds its lease
        (entry,) = silent_slack.outbox(name)
        assert entry["delivered"] == ["sns"] and entry["lease_until"] is None
    counted = totals(emf_lines(capsys.readouterr().out))
    assert counted[("Notifications", (("channel", "slack"), ("result", "deferred")))] == len(SERVICES)
    assert ("Notifications", (("channel", "slack"), ("result", "failed"))) not in counted
    assert counted[("Notifications", (("channel", "sns"), ("result", "sent")))] == len(SERVICES)
    assert ("FailedRecords", ()) not in counted
    (resting,) = [r for r in caplog.records if r.getMessage().startswith("announcement channel not answering")]
    assert resting.levelname == "WARNING" and resting.channel == "slack"
    # About the design, not the machine: one 5 s Slack timeout for the batch, not one per message.
    assert elapsed < FUNCTION_TIMEOUT_SECONDS / 2

    # Slack is back, and no other event comes for these services: the sweep's tick delivers what
    # Slack missed, once each.
    silent_slack.slack.answer_from_now(Reply(200))
    sweep = build_sweep(silent_slack.settings, SweepLimits(), silent_slack.sandbox.session)
    report = sweep.run()
    assert report.ticked == len(SERVICES) and report.errors == []
    requests = silent_slack.slack.wait_for_requests(1 + len(SERVICES))[1:]
    # The sweep also sends each incident's count update (a short ":hourglass:" message): not an opening.
    openings_sent = [r["body"]["text"] for r in requests if not r["body"]["text"].startswith(":hourglass:")]
    assert len(openings_sent) == len(SERVICES)
    assert all(sum(f"{CLUSTER}/{s}" in text for text in openings_sent) == 1 for s in SERVICES)
    assert all(silent_slack.outbox(name) == [] for name in SERVICES)
    assert silent_slack.sandbox.sns_messages() == []  # SNS is not sent again


def test_an_invocation_without_the_time_for_slacks_worst_case_does_not_try_it(silent_slack):
    # 20 s left: one webhook post may take 26 s (three timeouts and the waits between them).
    context = LocalLambdaContext(_remaining_ms=20_000)
    response = ecs_events.handler(sqs_batch(openings()[:2]), context)
    assert response["batchItemFailures"] == []
    assert silent_slack.slack.requests == [] and len(silent_slack.sandbox.sns_messages()) == 2
    assert all(entry["delivered"] == ["sns"] for name in SERVICES[:2] for entry in silent_slack.outbox(name))
