"""A proposal: in approve mode, the action containment decided (exactly as enforce would) and did not make,
kept on the incident until a person approves it from Slack, it expires, or a newer one replaces it.

Pure. It remembers what it was drawn against — the service's primary deployment, task definition and
desired count — so a click after a person deployed is recognised as a click on an old picture.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ecs_watchdog.contain.models import Action, ActionKind, ServiceView


class DrawnAgainst(BaseModel):
    """The service as the proposal saw it: what a person's deployment or scaling changes."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    primary_deployment: str | None = None  # DescribeServices' PRIMARY deployment id
    task_definition: str
    desired_count: int

    @classmethod
    def of(cls, view: ServiceView) -> DrawnAgainst:
        primary = next((d.id for d in view.deployments if d.status == "PRIMARY"), None)
        return cls(primary_deployment=primary, task_definition=view.task_definition, desired_count=view.desired_count)


class Proposal(BaseModel):
    """One proposed action on one incident. `taken_by` is set by the click that carried it out."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    id: str
    incident_id: str
    action: Action  # as contain/models.py describes it: kind, exact calls, before/after
    drawn_against: DrawnAgainst
    created_at: datetime
    expires_at: datetime
    taken_by: str | None = None  # the Slack user id whose click carried it out
    taken_at: datetime | None = None

    @property
    def label(self) -> str:
        """What the approve button says: `Roll back to api:6` / `Scale to zero`."""
        if self.action.kind is ActionKind.SCALE_TO_ZERO:
            return "Scale to zero"
        target = (self.action.after.task_definition or "the last known good").rsplit("/", 1)[-1]
        return f"Roll back to {target}"


def draw(action: Action, view: ServiceView, now: datetime, window: timedelta) -> Proposal:
    """A new proposal for `action`, decided on `view` at `now`, valid for `window`."""
    return Proposal(
        id=uuid.uuid4().hex[:12],
        incident_id=action.incident_id,
        action=action,
        drawn_against=DrawnAgainst.of(view),
        created_at=now,
        expires_at=now + window,
    )


def stored(raw: dict[str, Any] | None) -> Proposal | None:
    """The incident's proposal as stored (JSON); None when there is none or it cannot be read."""
    if not raw:
        return None
    try:
        return Proposal.model_validate(raw)
    except ValidationError:
        return None
