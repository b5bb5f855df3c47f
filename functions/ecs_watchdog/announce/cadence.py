"""When people hear about an incident again. Pure: the incident, the last message's time and `now` in.

At once: when it opens, is contained, resolves or reopens (every transition), and when the picture
changes — a new category among its failures, a probe confirming the cause (the incident becomes
`deterministic`), the correlated-failure guard taking containment away. Otherwise a count update
about 5, 15, 30 and 60 minutes after opening, then hourly: a flaky loop that runs all afternoon
yields a handful of messages, not hundreds. Count updates go to Slack only; email gets transitions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus

UPDATE_OFFSETS = tuple(timedelta(minutes=m) for m in (5, 15, 30, 60))
THEN_EVERY = timedelta(hours=1)
UPDATE_CHANNELS = frozenset({"slack"})  # email is for transitions, not counts
_ONGOING = (IncidentStatus.OPEN, IncidentStatus.CONTAINED)


class PictureChange(StrEnum):
    """A change in what people know about an incident that is worth a message at once."""

    NEW_CATEGORY = "new_category"
    PROBE_CONFIRMED = "probe_confirmed"
    GUARD_TRIPPED = "guard_tripped"


def update_times(opened_at: datetime) -> list[datetime]:
    """The scheduled count updates of the first hour: opened_at + 5, 15, 30, 60 minutes."""
    return [opened_at + offset for offset in UPDATE_OFFSETS]


def next_update_at(incident: Incident, last_update_at: datetime | None) -> datetime:
    """The first scheduled update strictly after `last_update_at` (the opening message when None)."""
    after = last_update_at or incident.opened_at
    for scheduled in update_times(incident.opened_at):
        if scheduled > after:
            return scheduled
    last_offset = incident.opened_at + UPDATE_OFFSETS[-1]
    hours_past = (after - last_offset) // THEN_EVERY + 1
    return last_offset + hours_past * THEN_EVERY


def due_update(incident: Incident, last_update_at: datetime | None, now: datetime) -> bool:
    """Whether a count update is due now for an ongoing incident whose last message went out at
    `last_update_at` (None: only the opening message). Several missed slots make one update, not many.
    None once someone acknowledged it in Slack."""
    if incident.status not in _ONGOING or incident.acknowledged:
        return False  # acknowledged from Slack: a person is on it, counts would only be noise
    return next_update_at(incident, last_update_at) <= now


def picture_changes(before: Incident | None, after: Incident) -> list[PictureChange]:
    """What changed between two versions of an incident that people should hear about at once."""
    if before is None:
        return []
    changes = []
    if set(after.categories) - set(before.categories):
        changes.append(PictureChange.NEW_CATEGORY)
    if after.kind == IncidentKind.DETERMINISTIC and before.kind != IncidentKind.DETERMINISTIC:
        changes.append(PictureChange.PROBE_CONFIRMED)
    if before.containment_eligible and not after.containment_eligible:
        changes.append(PictureChange.GUARD_TRIPPED)
    return changes
