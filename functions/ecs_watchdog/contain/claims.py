"""What an incident remembers of containment. Pure: the state changes around an action.

- before an enforced action, a **claim** (a conditional write) makes sure one invocation acts, once: an
  incident that carries any containment record is never acted on again;
- after it, the **record** (the ActionRecord as JSON) is kept on the incident, with a timeline entry, and
  an action that took effect makes the incident contained (a CONTAINED transition people are told of);
- a decision a guard held back (cooldown, hourly cap, the correlated-failure guard, the kill switch) is
  looked at again after RECHECK, when the service's next event arrives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ecs_watchdog.incidents.contract import ACTIVE, Result
from ecs_watchdog.incidents.lifecycle import add_to_timeline, fork, record_transition
from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus, ServiceState, TransitionKind

RECHECK = timedelta(minutes=5)
CLAIMED = "claimed"


def needs_containment(incident: Incident, now: datetime) -> bool:
    """Whether containment should (again) decide for this incident."""
    if incident.status is not IncidentStatus.OPEN or incident.kind is IncidentKind.CORRELATED:
        return False
    record = incident.containment
    if record is None:
        return True
    held = record.get("outcome") == "not_acted" and bool((record.get("action") or {}).get("would_have"))
    checked = incident.containment_checked_at
    return held and (checked is None or now - checked >= RECHECK)


def claim(state: ServiceState, incident_id: str, owner: str, at: datetime) -> Result:
    """Mark the incident as being acted on by `owner` (written before any call is made)."""
    incident = state.incidents.get(incident_id)
    if incident is None or not needs_containment(incident, at):
        return Result(state, note=f"{incident_id}: containment already decided or under way")
    result = Result(fork(state), changed=True)
    claimed = result.state.incidents[incident_id]
    claimed.containment = {"outcome": CLAIMED, "owner": owner, "at": at.isoformat()}
    claimed.containment_checked_at = at
    result.state.last_action_at = at
    return result


def record(
    state: ServiceState,
    incident_id: str,
    outcome: dict[str, Any],
    summary: dict[str, Any],
    line: str,
    took_effect: bool,
    at: datetime,
) -> Result:
    """Keep the decision on the incident; an action that took effect contains it and is announced. The
    incident's undelivered opening messages carry `summary`, so they say what was done (or would be)."""
    incident = state.incidents.get(incident_id)
    if incident is None:
        return Result(state, note=f"{incident_id}: no such incident any more")
    result = Result(fork(state), changed=True)
    incident = result.state.incidents[incident_id]
    incident.containment = outcome
    incident.containment_checked_at = at
    add_to_timeline(incident, at, "action", line)
    new = result.state
    new.outbox = [
        t.model_copy(update={"action": summary})
        if t.incident.id == incident_id and t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED)
        else t
        for t in new.outbox
    ]
    if took_effect and incident.status in ACTIVE:
        incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
        transition = record_transition(new, incident, TransitionKind.CONTAINED, at, line)
        contained = transition.model_copy(update={"action": summary})
        new.outbox = [contained if t.id == transition.id else t for t in new.outbox]
        result.transitions.append(contained)
    return result
