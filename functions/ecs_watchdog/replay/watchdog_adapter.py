"""The real watchdog under replay: the Lambda handler, its pipeline and adapters, on the simulator's session.

Everything the deployed stack provides is created in the simulator's moto account (alerts topic,
Slack secret, state table), Slack is a local endpoint on 127.0.0.1, and events reach the handler as
SQS batches, exactly as Lambda would receive them. Records the handler reports as failed are
redelivered, as SQS would, up to the queue's maxReceiveCount. A Lambda lifecycle hook is answered by the
lifecycle hook function's handler, built by its wiring over the same table and session, in the same mode.
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
from ecs_watchdog.handlers import ecs_events, lifecycle_hook
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, envelope_bodies, sqs_batch
from ecs_watchdog.replay.sandbox import SlackCapture, audit_events, provision
from ecs_watchdog.replay.seam import SentMessage
from ecs_watchdog.wiring.lifecycle_hook import build_lambda_hook_gate

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
        # The hook function's environment as infra sets it (infra/containment.py).
        hook_environment = {"STATE_TABLE_NAME": settings.state_table_name, "WATCHDOG_MODE": str(settings.mode)}
        self._hook_gate = build_lambda_hook_gate(hook_environment, session, clock)
        self._intended: list[dict[str, Any]] = []
        self._sqs = session.client("sqs")
        self._messages: list[SentMessage] = []
        self._categories: dict[str, str] = {}
        self._slack_seen = 0
        self._failed: Counter[str] = Counter()  # failed tasks delivered so far, per service
        self._failed_categories: dict[str, Counter[str]] = {}  # and their categories, by the classifier
        self._account_categories: set[str] = set()  # categories of the account incidents announced
        self._openings: dict[str, tuple[datetime, int]] = {}
        self.dead_lettered: list[str] = []
        # How a batch reaches the handler: the benchmark and the dashboard rendering wrap it to time
        # invocations, count AWS calls and keep the handler's EMF output.
        self.invoke: Callable[[dict[str, Any], Any], dict[str, Any]] = ecs_events.handler

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        for envelope in envelopes:
            failed_stop = _failed_service(envelope)
            if failed_stop:
                service, category = failed_stop
                self._failed[service] += 1
                self._failed_categories.setdefault(service, Counter())[category] += 1
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

    def answer_lifecycle_hook(self, payload: dict[str, Any]) -> dict[str, Any]:
        """ECS invoking the Lambda lifecycle hook function: its handler's return value."""
        lifecycle_hook._gate = self._hook_gate
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                return lifecycle_hook.handler(payload, LocalLambdaContext())
        finally:
            lifecycle_hook._gate = None

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
                transitions = _transitions(attributes.get("transition", ""))
                opened = bool(transitions & {"opened", "reopened"}) and attributes.get("kind") != "correlated"
                service = attributes.get("service", "").rsplit("/", 1)[-1]
                if attributes.get("kind") == "infrastructure":
                    # A cluster's infrastructure incident speaks for the services it names (cluster/service).
                    named = [name for name in self._failed if f"/{name}" in body["Message"]]
                    service = named[0] if named else service
                if opened and service not in self._openings:
                    # Counted per SQS batch: the failures of the batch that opened it are included.
                    self._openings[service] = (now, self._failed[service])
                if opened and attributes.get("category", "none") != "none":
                    self._categories.setdefault(service, attributes["category"])
                if attributes.get("kind") == "correlated" and transitions & {"opened", "reopened"}:
                    self._account_categories.add(attributes.get("category", "none"))
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
        """The cause the watchdog named for each service: the category of its first incident that has one,
        or, for a service the account incident spoke for (failing, but announced only as one of many), the
        account incident's category when it is the one the service's own failures show."""
        named = dict(self._categories)
        for service, categories in self._failed_categories.items():
            top = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            if service not in named and top in self._account_categories:
                named[service] = top
        return named

    def incident_openings(self) -> dict[str, tuple[datetime, int]]:
        """When each service's first incident was announced, and its failed tasks by then."""
        return dict(self._openings)

    def close(self) -> None:
        self._slack.stop()


def _transitions(attribute: str) -> set[str]:
    """The SNS `transition` attribute: one name, or a String.Array (`["opened", "contained"]`) for one
    message that says both."""
    if attribute.startswith("["):
        return {str(t) for t in json.loads(attribute)}
    return {attribute} if attribute else set()


def _failed_service(envelope: dict[str, Any]) -> tuple[str, str] | None:
    """The service and category of a failed stopped task (by the watchdog's own classifier), else None."""
    group = str(envelope.get("detail", {}).get("group", ""))
    category = failure_category(envelope) if group.startswith("service:") else None
    if category is None:
        return None
    return group.split(":", 1)[1], category


def make_watchdog(session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> ReplayWatchdog:
    """The WatchdogFactory the replay runner uses by default."""
    return ReplayWatchdog(session, clock, dry_run)
