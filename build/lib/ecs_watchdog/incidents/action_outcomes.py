"""The watchdog's own actions, reported back: a containment action that took effect contains its
incident, and delivered announcements leave the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.lifecycle import add_to_timeline, fork, record_transition
from ecs_watchdog.incidents.model import IncidentStatus, ServiceState, TransitionKind


def apply_containment(state: ServiceState, incident_id: str, action: str, took_effect: bool, at: datetime) -> Result:
    """Record a containment action's outcome; one that took effect makes the incident contained."""
    incident = state.incidents.get(incident_id)
    if incident is None or incident.status is not IncidentStatus.OPEN:
        return Result(state, note=f"no open incident {incident_id}")
    result = Result(fork(state), changed=True)
    incident = result.state.incidents[incident_id]
    add_to_timeline(incident, at, "action", f"{action}: {'took effect' if took_effect else 'did not take effect'}")
    if took_effect:
        incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
        result.transitions.append(record_transition(result.state, incident, TransitionKind.CONTAINED, at, action))
    return result


def mark_delivered(state: ServiceState, transition_ids: Iterable[str]) -> ServiceState:
    """Drop delivered transitions from the outbox."""
    delivered = set(transition_ids)
    new = fork(state)
    new.outbox = [t for t in new.outbox if t.id not in delivered]
    return new
