"""The channels an announcement goes to. Each renders (pure) and hands the result to its adapter.

A channel raises ChannelUnavailable when it is misconfigured (a Slack secret that is missing or
unreadable): retrying will not help, so the outbox reports it loudly and moves on. Any other error is
taken as passing (throttling, a 5xx, a timeout) and the event is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ecs_watchdog.incidents.model import Transition
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.notify.render import SnsMessage, render_transition_slack, render_transition_sns, sns_attributes


class ChannelUnavailable(RuntimeError):
    """The channel is misconfigured: no retry will deliver to it until a person fixes it."""


class Channel(Protocol):
    """Somewhere people read announcements."""

    name: str

    def send(self, transition: Transition, ref: ServiceRef) -> None: ...


class SnsPublisher(Protocol):
    def publish(self, message: SnsMessage, attributes: dict[str, str] | None = None) -> str: ...


class SlackPoster(Protocol):
    def post(self, payload: dict[str, Any]) -> None: ...


@dataclass
class SnsChannel:
    """The alerts topic (email and other subscribers), with attributes for subscription filters."""

    topic: SnsPublisher
    runbook_base_url: str | None = None
    name: str = "sns"

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        attributes = sns_attributes(transition, ref)  # severity, category, cluster, service, transition, kind
        self.topic.publish(render_transition_sns(transition, ref, self.runbook_base_url), attributes)


@dataclass
class SlackChannel:
    """A Slack incoming webhook. `unavailable` names the adapter's misconfiguration errors."""

    poster: SlackPoster
    runbook_base_url: str | None = None
    unavailable: tuple[type[Exception], ...] = ()
    name: str = "slack"

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        payload = render_transition_slack(transition, ref, self.runbook_base_url)
        try:
            self.poster.post(payload)
        except self.unavailable as error:
            raise ChannelUnavailable(str(error)) from error


def channels_of(
    sns: SnsPublisher | None,
    slack: SlackPoster | None,
    runbook_base_url: str | None,
    slack_unavailable: tuple[type[Exception], ...] = (),
) -> list[Channel]:
    """The configured channels, SNS first (email is the channel of last resort)."""
    found: list[Channel] = []
    if sns is not None:
        found.append(SnsChannel(sns, runbook_base_url))
    if slack is not None:
        found.append(SlackChannel(slack, runbook_base_url, slack_unavailable))
    return found
