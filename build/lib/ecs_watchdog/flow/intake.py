"""From a raw record to an outcome: parse, run the pipeline, and say what a failure means.

- processed: the outcome is logged (and counted by the caller's metrics);
- can never succeed (malformed, or state that cannot be stored): logged with its reason, counted and
  parked on the events DLQ at once, and the record reported done — retrying it would only fail again;
- anything else (a throttled table, Slack down): logged with its reason and raised, so SQS retries it
  and, after maxReceiveCount, moves it to the DLQ. Nothing is dropped silently.

The console path (a raw EventBridge event as a Lambda test event) runs the same steps for one event
and answers with the outcome as JSON, or `{"error": ...}`, never an exception (docs/console.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.events import MalformedEvent, parse_envelope
from ecs_watchdog.flow.pipeline import Outcome, Pipeline
from ecs_watchdog.flow.sqs_text import sqs_text
from ecs_watchdog.incidents.model import Unstorable
from ecs_watchdog.metrics.catalog import key

logger = Logger(child=True)

Count = Callable[[str, float], None]  # metric name, value
# A probe's status as the Probes metric names it: did it confirm the stop's cause?
PROBE_RESULTS = {"fail": "confirmed", "pass": "refuted", "skipped": "inconclusive", "error": "error"}


class Parking(Protocol):
    def park(self, body: str, reason: str, message_id: str) -> None: ...


@dataclass
class Intake:
    """Runs records through the pipeline and decides between done, parked and retried."""

    pipeline: Pipeline
    parking: Parking | None = None  # None: never-succeeding records are retried into the DLQ instead
    count: Count = lambda name, value: None
    correlate: Callable[[str], None] = lambda event_id: None  # the handler's logger.set_correlation_id

    def record(self, body: str, message_id: str) -> Outcome | None:
        """Process one SQS record body. Returns its outcome (None when parked); raises to have it retried."""
        try:
            event = parse_envelope(body)
        except MalformedEvent as error:
            self.count("MalformedEvents", 1)
            self._park(body, f"malformed: {error}", message_id)
            return None
        self.correlate(event.id)
        try:
            outcome = self.pipeline.process(event)
        except Unstorable as error:
            self.count("UnstorableEvents", 1)
            self._park(body, f"unstorable: {error}", message_id)
            return None
        except Exception as error:
            self.count("FailedRecords", 1)
            logger.error(
                "record failed; SQS will retry it, then dead-letter it",
                extra={"message_id": message_id, "problem": f"{type(error).__name__}: {error}"[:1000]},
            )
            raise
        self._observe(outcome)
        return outcome

    def begin(self, remaining_ms: Callable[[], int] | None) -> None:
        """A new invocation: channels found down in the last one are tried again, within the time left
        (`remaining_ms`, Lambda's `context.get_remaining_time_in_millis`; None: unbounded)."""
        self.pipeline.outbox.budget.begin(remaining_ms)

    def console(self, payload: Any) -> dict[str, Any]:
        """A raw EventBridge event from the Lambda console: its outcome as JSON, or {"error": ...}.
        `{"restore": {"cluster": C, "service": S, "reapply_revision": false}}` undoes the last action."""
        if isinstance(payload, dict) and isinstance(payload.get("restore"), dict):
            return self._restore(payload["restore"])
        try:
            event = parse_envelope(payload)
        except MalformedEvent as error:
            logger.warning("console payload is not an ECS event", extra={"problem": str(error)})
            return {"error": f"not an ECS event the watchdog understands: {error}"}
        try:
            outcome = self.pipeline.process(event)
        except Exception as error:
            logger.error("console event failed", extra={"problem": f"{type(error).__name__}: {error}"[:1000]})
            return {"error": f"{type(error).__name__}: {error}"[:1000]}
        self._observe(outcome)
        return outcome_json(outcome)

    def _restore(self, request: dict[str, Any]) -> dict[str, Any]:
        cluster, service = request.get("cluster"), request.get("service")
        if not (isinstance(cluster, str) and cluster and isinstance(service, str) and service):
            return {"error": 'restore needs {"cluster": "...", "service": "..."}'}
        try:
            done = self.pipeline.restore(cluster, service, reapply_revision=bool(request.get("reapply_revision")))
        except Exception as error:
            logger.error("restore failed", extra={"problem": f"{type(error).__name__}: {error}"[:1000]})
            return {"error": f"{type(error).__name__}: {error}"[:1000]}
        logger.info("restore", extra={"cluster": cluster, "service": service, "outcome": done["outcome"]})
        return {"restore": done}

    def _park(self, body: str, reason: str, message_id: str) -> None:
        # The reason quotes the input, which may hold what SQS refuses (a lone surrogate); a body that
        # really came from SQS is returned unchanged.
        body, reason, message_id = sqs_text(body), sqs_text(reason), sqs_text(message_id)
        if self.parking is None:
            logger.error("record can never succeed; retried until SQS dead-letters it", extra={"reason": reason})
            raise MalformedEvent(reason)
        try:
            self.parking.park(body, reason, message_id)
        except Exception as error:
            self.count("FailedRecords", 1)
            logger.error(
                "record can never succeed, and parking it failed: SQS will retry it, then dead-letter it",
                extra={"message_id": message_id, "reason": reason, "problem": f"{type(error).__name__}: {error}"[:500]},
            )
            raise
        self.count("ParkedRecords", 1)
        logger.error("record can never succeed: parked on the DLQ", extra={"message_id": message_id, "reason": reason})

    def _observe(self, outcome: Outcome) -> None:
        # Metric names and dimensions come from metrics/catalog.py (the dashboard draws the same ones).
        service = None
        if outcome.finding:
            c = outcome.finding.classification
            stop = outcome.finding.stop
            service = f"{stop.cluster}/{stop.service}" if stop.service else None
            self.count(key("Stops", category=c.category, outcome="failure" if c.failure else "benign"), 1)
            if c.category == "unknown":
                self.count("UnknownStops", 1)
        for transition in outcome.transitions:
            self.count(key("Incidents", transition=str(transition.kind)), 1)
            # One line per transition: the dashboard's "recent incidents" table reads these.
            logger.info(
                "incident transition",
                extra={
                    "service": transition.incident.service,
                    "transition": str(transition.kind),
                    "incident": transition.incident.id,
                    "incident_kind": str(transition.incident.kind),
                    "category": transition.incident.category,
                    "summary": transition.summary[:300],
                },
            )
        for _ in outcome.unavailable:
            self.count("ChannelUnavailable", 1)
        for channel in outcome.deferred:
            self.count(key("Notifications", channel=channel, result="deferred"), 1)
        for action in outcome.actions:
            self.count(key("Actions", action=action["kind"], mode=action["mode"]), 1)
        for probe in outcome.probes:
            result = PROBE_RESULTS.get(str(probe.get("status")), "inconclusive")
            self.count(key("Probes", probe=str(probe.get("name")), result=result), 1)
        if outcome.hook_answer is not None:
            verdict, result = outcome.hook_answer
            self.count(key("HookAnswers", verdict=verdict, result=result), 1)
        logger.info(
            "event processed",
            extra={
                "outcome": outcome.kind,
                "reason": outcome.reason,
                "channels": list(outcome.channels),
                "deferred": list(outcome.deferred),
                "transitions": [t.id for t in outcome.transitions],
                # For the dashboard's "top failing services" (Logs Insights; never a metric dimension).
                "service": service,
                "category": outcome.finding.classification.category if outcome.finding else None,
                "failure": outcome.finding.classification.failure if outcome.finding else None,
            },
        )


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """The console contract: what the watchdog did with one event (docs/console.md)."""
    finding = outcome.finding
    return {
        "outcome": outcome.kind,
        "reason": outcome.reason,
        "category": finding.classification.category if finding else None,
        "failure": finding.classification.failure if finding else None,
        "transitions": [
            {
                "id": t.id,
                "kind": str(t.kind),
                "incident": t.incident.id,
                "incident_kind": str(t.incident.kind),
                "summary": t.summary,
            }
            for t in outcome.transitions
        ],
        "channels": list(outcome.channels),
    }
