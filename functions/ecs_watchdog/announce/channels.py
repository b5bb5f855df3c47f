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

from ecs_watchdog.announce.content import action_from_record
from ecs_watchdog.announce.pagerduty import dedup_key, pagerduty_event
from ecs_watchdog.announce.render import (
    SnsMessage,
    render_living_message,
    render_thread_reply,
    render_transition_slack,
    render_transition_sns,
    render_update_slack,
    sns_attributes,
)
from ecs_watchdog.incidents.model import Incident, IncidentStatus, Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

# What a living message redrawn from the stored incident calls its status (an open one keeps its opening's).
STATUS_TRANSITIONS = {
    IncidentStatus.CONTAINED: TransitionKind.CONTAINED,
    IncidentStatus.RESOLVED: TransitionKind.RESOLVED,
    IncidentStatus.CLOSED: TransitionKind.CLOSED,
}


class ChannelUnavailable(RuntimeError):
    """The channel is misconfigured: no retry will deliver to it until a person fixes it."""


class ChannelDown(RuntimeError):
    """The channel is not taking messages just now: trying again soon would only spend the invocation's time."""


class Channel(Protocol):
    """Somewhere people read announcements."""

    name: str

    def send(self, transition: Transition, ref: ServiceRef) -> None: ...


class OneMessageChannel(Channel, Protocol):
    """A channel whose messages cannot be edited (a webhook, email): an incident opened and contained in
    one go is one message that says both, not two in the same second."""

    def send_together(self, opened: Transition, contained: Transition, ref: ServiceRef) -> None: ...


class SnsPublisher(Protocol):
    def publish(self, message: SnsMessage, attributes: dict[str, str | list[str]] | None = None) -> str: ...


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

    def send_together(self, opened: Transition, contained: Transition, ref: ServiceRef) -> None:
        attributes = sns_attributes(contained, ref, opened)
        self.topic.publish(render_transition_sns(contained, ref, self.runbook_base_url, opened), attributes)


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

    def send_together(self, opened: Transition, contained: Transition, ref: ServiceRef) -> None:
        payload = render_transition_slack(contained, ref, self.runbook_base_url, opened)
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

    def refresh(self, incident: Incident, ref: ServiceRef) -> bool:
        """Edit the incident's living message to show it as stored now (acknowledged, silenced, undone: a
        click's effect), without a thread reply; False when it has no message."""
        known = self.messages.find(incident.id)
        if known is None:
            return False
        kind = STATUS_TRANSITIONS.get(incident.status, known.opening.kind)
        update: dict[str, Any] = {"incident": incident, "kind": kind}
        action = action_from_record(incident.containment)
        if action is not None:
            update["action"] = action
        payload = render_living_message(
            known.opening, known.opening.model_copy(update=update), ref, self.runbook_base_url
        )
        with _channel_errors(self.unavailable, self.down):
            self.bot.update(known.message, payload)
        return True

    def _send(self, transition: Transition, ref: ServiceRef) -> None:
        incident_id = transition.incident.id
        known = self.messages.find(incident_id)
        if known is None:
            posted = self.bot.post(render_transition_slack(transition, ref, self.runbook_base_url, buttons=True))
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


class PagerDutyEvents(Protocol):
    def send(self, action: str, dedup_key: str, event: dict[str, Any]) -> None: ...


@dataclass
class PagerDutyChannel:
    """An Events API v2 integration. `unavailable` names the adapter's misconfiguration errors, `down` its
    errors for a PagerDuty that is not taking events just now. What it sends: announce/pagerduty.py."""

    events: PagerDutyEvents
    runbook_base_url: str | None = None
    unavailable: tuple[type[Exception], ...] = ()
    down: tuple[type[Exception], ...] = ()
    name: str = "pagerduty"

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        self._send(transition, ref, None)

    def send_together(self, opened: Transition, contained: Transition, ref: ServiceRef) -> None:
        self._send(contained, ref, opened)

    def _send(self, transition: Transition, ref: ServiceRef, opened: Transition | None) -> None:
        event = pagerduty_event(transition, ref, self.runbook_base_url, opened)
        if event is None:
            return
        action, properties = event
        with _channel_errors(self.unavailable, self.down):
            self.events.send(action, dedup_key(transition, ref), properties)


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
