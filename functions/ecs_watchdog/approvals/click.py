"""The contract between a Slack button and the watchdog: what a button carries, what a click is, what it
came to.

A button's `action_id` names what it does (`watchdog_<ButtonKind>`); its `value` (Slack allows 2,000
characters) names the incident and, for an approval or an undo, the proposal it was drawn for, so a click
on an old message is recognised as old. The Slack-facing handler turns a verified interaction payload
into a `Click`; the desk answers it with a `ClickOutcome` (what the person who clicked is told, privately).
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ACTION_ID_PREFIX = "watchdog_"


class ButtonKind(StrEnum):
    APPROVE = "approve"  # carry out the proposed containment (approve mode)
    UNDO = "undo"  # undo the action the watchdog (or an approval) took
    ACKNOWLEDGE = "acknowledge"  # "seen, I'm on it": named in the message, count updates stop
    SILENCE_1H = "silence_1h"  # nothing more about this incident for an hour
    SILENCE_24H = "silence_24h"

    @property
    def action_id(self) -> str:
        return f"{ACTION_ID_PREFIX}{self.value}"

    @classmethod
    def from_action_id(cls, action_id: str) -> ButtonKind | None:
        if not action_id.startswith(ACTION_ID_PREFIX):
            return None
        try:
            return cls(action_id.removeprefix(ACTION_ID_PREFIX))
        except ValueError:
            return None


class ButtonValue(BaseModel):
    """What a button's `value` carries, as compact JSON."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    service: str = Field(alias="s", min_length=1)  # service key: account/region/cluster/service
    incident: str = Field(alias="i", min_length=1)
    proposal: str | None = Field(default=None, alias="p")

    def encode(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> ButtonValue | None:
        try:
            return cls.model_validate_json(value)
        except ValidationError:
            return None


class Click(BaseModel):
    """One press of one watchdog button by one Slack user, as Slack sent it (signature already verified)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    kind: ButtonKind
    target: ButtonValue
    user_id: str = Field(min_length=1)
    user_name: str | None = None
    team_id: str | None = None
    channel_id: str | None = None
    message_ts: str | None = None  # the living message the button is on
    action_ts: str = Field(min_length=1)  # Slack's id of this press: a retry of the interaction repeats it
    clicked_at: datetime


class ClickResult(StrEnum):
    DONE = "done"  # carried out (or recorded, for acknowledge and silence)
    REFUSED = "refused"  # the same guards as an automatic action refused it; the reply says why
    NOT_ALLOWED = "not_allowed"  # the user may not press watchdog buttons
    EXPIRED = "expired"  # the proposal no longer holds (the service changed, a person deployed, resolved, too old)
    DUPLICATE = "duplicate"  # another press already carried this out (double click, retry, two people)
    FAILED = "failed"  # the watchdog's own trouble; nothing was done, the reply says so


class ClickOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    result: ClickResult
    reply: str  # what the person who clicked is told (ephemeral)
