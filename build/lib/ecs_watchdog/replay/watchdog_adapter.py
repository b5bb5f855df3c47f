"""The real watchdog under replay: the Lambda handler, its pipeline and adapters, on the simulator's session.

Everything the deployed stack provides is created in the simulator's moto account (alerts topic,
Slack secret, state table), Slack is a local endpoint on 127.0.0.1, and events reach the handler as
SQS batches, exactly as Lambda would receive them. Records the handler reports as failed are
redelivered, as SQS would, up to the queue's maxReceiveCount.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3

from ecs_watchdog.classify import failure_category
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, envelope_bodies, sqs_batch
from ecs_watchdog.replay.sandbox import SlackCapture, audit_events, provision
from ecs_watchdog.replay.seam import SentMessage

MAX_RECEIVE_COUNT = 5  # the stack's default watchdog:queue_max_receive_count


class ReplayWatchdog:
    """Implements the simulator's WatchdogUnderTest with the production handler."""

    def __init__(self, session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> None:
        self._session = session
        self._clock = clock
        self.dry_run = dry_run  # containment honours it once it exists; the mirror refuses writes anyway
        self._slack = SlackCapture()
        self._slack.start()
        settings, self._capture_url = provision(session, self._slack.url)
        # The `watchdog` policy enforces; `watchdog-dry-run` reports the exact calls it would make.
        settings = settings.model_copy(update={"mode": Mode.DRY_RUN if dry_run else Mode.ENFORCE})
        ecs_events.install(settings, session, clock)  # leases and the gate's deadlines in simulated time
        self._intended: list[dict[str, Any]] = []
        self._sqs = session.client("sqs")
        self._messages: list[SentMessage] = []
        self._categories: dict[str, str] = {}
        self._slack_seen = 0
        self._failed: Counter[str] = Counter()  # failed tasks delivered so far, per service
        self._openings: dict[str, tuple[datetime, int]] = {}
        self.dead_lettered: list[str] = []
        # How a batch reaches the handler: the benchmark and the dashboard rendering wrap it to time
        # invocations, count AWS calls and keep the handler's EMF output.
        self.invoke: Callable[[dict[str, Any], Any], dict[str, Any]] = ecs_events.handler

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        for envelope in envelopes:
            service = _failed_service(envelope)
            if service:
                self._failed[service] += 1
        bodies = envelope_bodies(envelopes)
        for receive_count in range(1, MAX_RECEIVE_COUNT + 1):
            batch = sqs_batch(bodies, receive_count=receive_count)
            # In Lambda, stdout is the function's log stream (metrics are printed there as EMF lines);
            # here it would drown the replay's own output.
            with contextlib.redirect_stdout(io.StringIO()):
                response = self.invoke(batch, LocalLambdaContext())
            failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
            bodies = [r["body"] for r in batch["Records"] if r["messageId"] in failed]
            if not bodies:
                break
        self.dead_lettered += bodies
        self._collect()

    def _collect(self) -> None:
        now = self._clock()
        for payload in self._slack.payloads[self._slack_seen :]:
            self._messages.append(SentMessage("slack", now, json.dumps(payload, ensure_ascii=False)))
        if len(self._slack.payloads) == self._slack_seen:
            return  # every announcement goes to Slack and SNS together: nothing new on either
        self._slack_seen = len(self._slack.payloads)
        while batch := self._sqs.receive_message(QueueUrl=self._capture_url, MaxNumberOfMessages=10).get("Messages"):
            for message in batch:
                body = json.loads(message["Body"])
                self._messages.append(SentMessage("sns", now, f"{body['Subject']}\n{body['Message']}"))
                attributes = {k: v["Value"] for k, v in body.get("MessageAttributes", {}).items()}
                opened = (
                    attributes.get("transition") in ("opened", "reopened") and attributes.get("kind") != "correlated"
                )
                service = attributes.get("service", "").rsplit("/", 1)[-1]
                if opened and service not in self._openings:
                    # Counted per SQS batch: the failures of the batch that opened it are included.
                    self._openings[service] = (now, self._failed[service])
                if opened and attributes.get("category", "none") != "none":
                    self._categories.setdefault(service, attributes["category"])
                self._sqs.delete_message(QueueUrl=self._capture_url, ReceiptHandle=message["ReceiptHandle"])

    def intended_actions(self) -> list[dict[str, Any]]:
        """What the dry-run watchdog reported it would do, from its audit events."""
        for event in audit_events(self._session):
            record = event.get("detail", {})
            action = record.get("action", {})
            if record.get("outcome") != "dry_run":
                continue
            calls = action.get("calls") or []
            self._intended.append(
                {
                    "at": datetime.fromisoformat(record["at"]),
                    "service": str(action.get("service", "")).rsplit("/", 1)[-1],
                    "action": calls[0]["operation"] if calls else action.get("kind"),
                    "detail": f"{action.get('kind')}: {action.get('reason', '')}",
                }
            )
        return list(self._intended)

    def messages(self) -> list[SentMessage]:
        return list(self._messages)

    def incident_categories(self) -> dict[str, str]:
        """The cause the watchdog named for each service: the category of its first incident that has one."""
        return dict(self._categories)

    def incident_openings(self) -> dict[str, tuple[datetime, int]]:
        """When each service's first incident was announced, and its failed tasks by then."""
        return dict(self._openings)

    def close(self) -> None:
        self._slack.stop()


def _failed_service(envelope: dict[str, Any]) -> str | None:
    """The service of a failed stopped task (by the watchdog's own classifier), else None."""
    group = str(envelope.get("detail", {}).get("group", ""))
    if not group.startswith("service:") or failure_category(envelope) is None:
        return None
    return group.split(":", 1)[1]


def make_watchdog(session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> ReplayWatchdog:
    """The WatchdogFactory the replay runner uses by default."""
    return ReplayWatchdog(session, clock, dry_run)
