"""The one path an ECS event takes: typed event → Stop → Classification → Finding → messages.

Handlers, the CLI and the simulator all call `Pipeline.process`; it holds no boto3, only the narrow
adapters it is given, so it is tested with moto or with real values passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.events import EcsEvent, TaskStateChangeEvent, stop_from_event
from ecs_watchdog.models import Finding, Stop
from ecs_watchdog.notify.render import SnsMessage, render_slack, render_sns


class SnsPublisher(Protocol):
    def publish(self, message: SnsMessage, attributes: dict[str, str] | None = None) -> str: ...


class SlackPoster(Protocol):
    def post(self, payload: dict[str, Any]) -> None: ...


EssentialContainers = Callable[[str], frozenset[str] | None]

OutcomeKind = Literal["finding", "benign", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one event, for logs, metrics and the CLI."""

    kind: OutcomeKind
    reason: str
    finding: Finding | None = None
    channels: tuple[str, ...] = ()


@dataclass
class Pipeline:
    """Processes ECS events with the adapters it is given. `slack` is None when Slack is not configured."""

    sns: SnsPublisher | None
    slack: SlackPoster | None
    essential_containers: EssentialContainers | None = None
    runbook_base_url: str | None = None

    def process(self, event: EcsEvent) -> Outcome:
        """Handle one parsed event. Delivery errors propagate, so the caller retries the event."""
        if not isinstance(event, TaskStateChangeEvent):
            # Deployment, service-action and hook events feed the incident engine (later issue).
            return Outcome("ignored", f"{event.detail_type} is observed, not yet acted on")
        if event.detail.lastStatus != "STOPPED":
            return Outcome("ignored", f"task is {event.detail.lastStatus}, not STOPPED")
        stop = stop_from_event(event)
        if not stop.service:
            return Outcome("ignored", f"standalone task (group {stop.group!r}), not a service task")
        finding = self.classify(stop)
        if not finding.classification.failure:
            return Outcome("benign", finding.classification.rule, finding)
        return Outcome("finding", finding.classification.rule, finding, self.notify(finding))

    def classify(self, stop: Stop) -> Finding:
        """Classify a stop, asking ECS which containers are essential only when it matters."""
        essential = None
        stopped = [c for c in stop.containers if c.reason or c.exit_code not in (None, 0)]
        if len(stopped) > 1 and self.essential_containers and stop.task_definition_arn:
            essential = self.essential_containers(stop.task_definition_arn)
        return Finding(stop=stop, classification=classify_stop(stop, essential))

    def notify(self, finding: Finding) -> tuple[str, ...]:
        """Send the finding to every configured channel; returns the channels that accepted it."""
        sent: list[str] = []
        if self.sns is not None:
            attributes = {"category": finding.classification.category, "service": finding.service_label}
            self.sns.publish(render_sns(finding, self.runbook_base_url), attributes)
            sent.append("sns")
        if self.slack is not None:
            self.slack.post(render_slack(finding, self.runbook_base_url))
            sent.append("slack")
        return tuple(sent)
