"""The channels an announcement goes to. Each renders (pure) and hands the result to its adapter.

A channel raises ChannelUnavailable when it is misconfigured (a Slack secret that is missing or
unreadable): retrying will not help, so the outbox reports it loudly and moves on. It raises ChannelDown
when the service is not taking messages just now (Slack does not answer, cannot be reached, or keeps
rate-limiting): the outbox leaves that channel alone for the rest of the invocation and keeps its
messages for later. Any other error is taken as passing (throttling, a 5xx) and the event is retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from ecs_watchdog.announce.render import (
    SnsMessage,
    render_living_message,
    render_thread_reply,
    render_transition_slack,
    render_transition_sns,
    render_update_slack,
    sns_attributes,
)
from ecs_watchdog.incidents.model import Incident, Transition
from ecs_watchdog.incidents.service_ref import ServiceRef


class ChannelUnavailable(RuntimeError):
    """The channel is misconfigured: no retry will deliver to it until a person fixes it."""


class ChannelDown(RuntimeError):
    """The channel is not taking messages just now: trying again soon would only spend the invocation's time."""


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


@contextmanager
def _channel_errors(unavailable: tuple[type[Exception], ...], down: tuple[type[Exception], ...]) -> Iterator[None]:
    """An adapter's misconfiguration errors as ChannelUnavailable, its not-answering ones as ChannelDown."""
    try:
        yield
    except unavailable as error:
        raise ChannelUnavailable(str(error)) from error
    except down as error:
        raise ChannelDown(str(error)) from error


@dataclass
class SlackChannel:
    """A Slack incoming webhook. `unavailable` names the adapter's misconfiguration errors, `down` its
    errors for a Slack that is not taking messages just now."""

    poster: SlackPoster
    runbook_base_url: str | None = None
    unavailable: tuple[type[Exception], ...] = ()
    down: tuple[type[Exception], ...] = ()
    name: str = "slack"

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        payload = render_transition_slack(transition, ref, self.runbook_base_url)
        with _channel_errors(self.unavailable, self.down):
            self.poster.post(payload)

    def send_update(self, incident: Incident, ref: ServiceRef, now: datetime) -> bool:
        """A count update as a new short message (a webhook cannot edit the incident's message)."""
        with _channel_errors(self.unavailable, self.down):
            self.poster.post(render_update_slack(incident, ref, now))
        return True


class SlackBotClient(Protocol):
    def post(self, payload: dict[str, Any], thread_ts: str | None = None) -> Any: ...

    def update(self, message: Any, payload: dict[str, Any]) -> None: ...

    def delete(self, message: Any) -> None: ...


class LivingMessageStore(Protocol):
    def find(self, incident_id: str) -> Any: ...

    def claim(self, opening: Transition, message: Any) -> Any: ...

    def record_reply(self, incident_id: str, transition_id: str) -> None: ...

    def replace(self, incident_id: str, message: Any) -> None: ...


@dataclass
class SlackBotChannel:
    """Slack as a bot: one living message per incident, edited in place, with a thread reply per update.

    The message's `ts` is kept in the state table (first writer wins), so a redelivered or racing
    transition edits the one message instead of posting a second; a transition that already has its
    thread reply gets none again. `gone` names the bot's error for a message a person deleted: the
    incident then gets a new message."""

    bot: SlackBotClient
    messages: LivingMessageStore
    runbook_base_url: str | None = None
    unavailable: tuple[type[Exception], ...] = ()
    gone: tuple[type[Exception], ...] = ()
    down: tuple[type[Exception], ...] = ()
    name: str = "slack"

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        # Down halfway (posted, not yet edited or replied): what is done is recorded in the state table
        # (the message's ts, the replies), so the later delivery finishes the rest and repeats nothing.
        with _channel_errors(self.unavailable, self.down):
            self._send(transition, ref)

    def send_update(self, incident: Incident, ref: ServiceRef, now: datetime) -> bool:
        """A count update in the incident's thread (see announce/cadence.py); False when it has no message yet."""
        known = self.messages.find(incident.id)
        if known is None:
            return False
        with _channel_errors(self.unavailable, self.down):
            self.bot.post(render_update_slack(incident, ref, now), thread_ts=known.message.ts)
        return True

    def _send(self, transition: Transition, ref: ServiceRef) -> None:
        incident_id = transition.incident.id
        known = self.messages.find(incident_id)
        if known is None:
            posted = self.bot.post(render_transition_slack(transition, ref, self.runbook_base_url))
            known = self.messages.claim(transition, posted)
            if known.message.ts == posted.ts:
                return  # this message is the incident's message; it needs no reply
            self.bot.delete(posted)  # another writer won the race: keep one message
        payload = render_living_message(known.opening, transition, ref, self.runbook_base_url)
        try:
            self.bot.update(known.message, payload)
        except self.gone:
            replacement = self.bot.post(payload)
            self.messages.replace(incident_id, replacement)
            known = replace(known, message=replacement)
        if transition.id not in known.replies:
            self.bot.post(render_thread_reply(transition, ref), thread_ts=known.message.ts)
            self.messages.record_reply(incident_id, transition.id)


def channels_of(
    sns: SnsPublisher | None,
    slack: SlackPoster | None,
    runbook_base_url: str | None,
    slack_unavailable: tuple[type[Exception], ...] = (),
    slack_down: tuple[type[Exception], ...] = (),
) -> list[Channel]:
    """The configured channels, SNS first (email is the channel of last resort)."""
    found: list[Channel] = []
    if sns is not None:
        found.append(SnsChannel(sns, runbook_base_url))
    if slack is not None:
        found.append(SlackChannel(slack, runbook_base_url, slack_unavailable, slack_down))
    return found
