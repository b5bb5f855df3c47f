"""Where announcements and parked records go, in memory: channels that render like the real ones and
refuse what Slack, SNS and SQS would refuse, and a parker that records what would go to the DLQ."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_watchdog.announce.channels import ChannelDown, ChannelUnavailable
from ecs_watchdog.announce.render import render_transition_slack, render_transition_sns
from ecs_watchdog.incidents.model import Transition
from ecs_watchdog.incidents.service_ref import ServiceRef

SQS_REFUSES = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Sent:
    transition: Transition
    ref: ServiceRef
    rendered: str  # the text the real channel would hand to its adapter


@dataclass
class RecordingChannel:
    """An announcement channel that renders like `SnsChannel` / `SlackChannel` (by its name), checks what
    the real service would refuse, and records what it sent.

    Scripting: `fail(times, when=...)` fails the next sends (matching `when`) with a passing error;
    `unavailable` raises ChannelUnavailable (misconfigured); `always_fail` fails every send; `down`
    raises ChannelDown (not answering: Slack accepting connections and never answering);
    `during_send` runs once inside a send, before it completes (this invocation is still delivering)."""

    name: str
    sent: list[Sent] = field(default_factory=list)
    unavailable: bool = False
    always_fail: bool = False
    down: bool = False
    during_send: Callable[[Transition], None] | None = None
    attempts: int = 0
    _failures: list[list[Any]] = field(default_factory=list)  # [sends left to fail, which transitions]

    def fail(self, times: int = 1, *, when: Callable[[Transition], bool] | None = None) -> None:
        """Fail the next `times` sends (of transitions `when` accepts) with a passing error (an HTTP 503)."""
        self._failures.append([times, when])

    def recover(self) -> None:
        """Work again: forget every scripted failure."""
        self._failures.clear()
        self.unavailable = self.always_fail = self.down = False

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        """Render, check and record; or fail as scripted."""
        self.attempts += 1
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook(transition)
        if self.unavailable:
            raise ChannelUnavailable(f"{self.name}: secret not found")
        if self.always_fail:
            raise ConnectionError(f"{self.name}: connection refused")
        if self.down:
            raise ChannelDown(f"{self.name}: did not answer within 5 s")
        for failure in self._failures:
            if failure[0] > 0 and (failure[1] is None or failure[1](transition)):
                failure[0] -= 1
                raise ConnectionError(f"{self.name}: HTTP 503 Service Unavailable")
        if self.name == "slack":
            payload = render_transition_slack(transition, ref)
            check_slack_payload(payload)
            rendered = json.dumps(payload, ensure_ascii=False)
        else:
            message = render_transition_sns(transition, ref)
            check_sns_message(message.subject, message.body)
            rendered = f"{message.subject}\n{message.body}"
        self.sent.append(Sent(transition, ref, rendered))

    def ids(self) -> list[str]:
        """Ids of the transitions sent, in order (a repeated id is a duplicate message)."""
        return [s.transition.id for s in self.sent]


class Refused(ValueError):
    """The real service would refuse this message (a limit or an encoding it does not accept)."""


def check_sns_message(subject: str, body: str) -> None:
    """SNS Publish: Subject printable ASCII, one line, under 100 characters; Message UTF-8, at most 256 KB."""
    if not (len(subject) < 100 and all(32 <= ord(c) < 127 for c in subject)):
        raise Refused(f"SNS subject refused: {subject!r}")
    if len(_utf8(body)) > 256 * 1024:
        raise Refused(f"SNS message of {len(_utf8(body))} bytes is over 256 KB")


def check_slack_payload(payload: dict[str, Any]) -> None:
    """Slack Block Kit: at most 50 blocks; header text 150, section text 3,000, 10 fields of 2,000 each."""
    _utf8(json.dumps(payload, ensure_ascii=False))
    blocks = payload.get("blocks", [])
    if len(blocks) > 50:
        raise Refused(f"{len(blocks)} blocks (Slack takes 50)")
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        limit = 150 if block["type"] == "header" else 3000
        if len(text) > limit:
            raise Refused(f"{block['type']} text of {len(text)} characters (Slack takes {limit})")
        fields = block.get("fields", [])
        if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
            raise Refused(f"section fields over Slack's limits: {len(fields)}")
        if len(block.get("elements", [])) > 10:
            raise Refused("more than 10 context elements")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:  # botocore and urllib send UTF-8: a lone surrogate fails there
        raise Refused(f"not encodable as UTF-8: {error}") from error


@dataclass
class RecordingParker:
    """`intake.Parking`: records what would go to the events DLQ, with its reason."""

    parked: list[tuple[str, str, str]] = field(default_factory=list)  # (body, reason, message id)

    def park(self, body: str, reason: str, message_id: str) -> None:
        """Record it, refusing what SendMessage would refuse (as aws/parking.ParkedRecords sends it)."""
        try:
            for text in (body, reason[:1000] or "unknown", message_id or "unknown"):
                check_sqs_text(text)
        except Refused as error:
            raise ParkingRefused(str(error)) from error
        self.parked.append((body, reason, message_id))


class ParkingRefused(Refused):
    """SendMessage to the DLQ would refuse this record or its reason."""


def check_sqs_text(text: str) -> None:
    """SQS message bodies and attribute values: UTF-8 text of the characters XML allows (no lone
    surrogates, no control characters but tab, newline and carriage return)."""
    _utf8(text)
    refused = SQS_REFUSES.search(text)
    if refused:
        raise Refused(f"SQS refuses character U+{ord(refused.group()):04X} in a message")
