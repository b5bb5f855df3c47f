"""What Acknowledge and Silence leave on an incident. Pure: the service state in, a Result out.

Acknowledge names who is on it (the message shows them) and stops count updates; Silence keeps every
channel quiet about the incident until a time (its transitions are still recorded, and delivered as
silenced). Each is recorded once: a second press finds it recorded and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.lifecycle import add_to_timeline, fork
from ecs_watchdog.incidents.model import Incident, IncidentStatus, ServiceState, Transition

ONGOING = (IncidentStatus.OPEN, IncidentStatus.CONTAINED)


def person(user_id: str, user_name: str | None, at: datetime) -> dict[str, str]:
    return {"user_id": user_id, "user_name": user_name or user_id, "at": at.isoformat()}


def acknowledge(state: ServiceState, incident_id: str, user_id: str, user_name: str | None, at: datetime) -> Result:
    """Record that `user_id` is on the incident (first press wins; later presses change nothing)."""
    incident = state.incidents.get(incident_id)
    if incident is None or incident.status not in ONGOING:
        return Result(state, note=f"{incident_id}: not an ongoing incident")
    if incident.acknowledged:
        return Result(state, note=f"{incident_id}: already acknowledged by {incident.acknowledged.get('user_name')}")
    result = Result(fork(state), changed=True)
    marked = result.state.incidents[incident_id]
    marked.acknowledged = person(user_id, user_name, at)
    add_to_timeline(marked, at, "action", f"acknowledged in Slack by {user_name or user_id}: count updates stop")
    return result


def silence(
    state: ServiceState, incident_id: str, user_id: str, user_name: str | None, at: datetime, span: timedelta
) -> Result:
    """Keep every channel quiet about the incident until `at + span` (a later press may lengthen it)."""
    incident = state.incidents.get(incident_id)
    if incident is None or incident.status not in ONGOING:
        return Result(state, note=f"{incident_id}: not an ongoing incident")
    until = at + span
    if incident.silenced_until is not None and incident.silenced_until >= until:
        return Result(state, note=f"{incident_id}: already silenced until {incident.silenced_until.isoformat()}")
    result = Result(fork(state), changed=True)
    marked = result.state.incidents[incident_id]
    marked.silenced_until = until
    marked.silenced_by = person(user_id, user_name, at)
    add_to_timeline(marked, at, "action", f"silenced in Slack by {user_name or user_id} until {until:%H:%M} UTC")
    return result


def muted(transition: Transition, current: Incident | None, now: datetime) -> bool:
    """Whether a transition is delivered as silenced: its incident, as stored now, is silenced at `now`."""
    incident = current or transition.incident
    return incident.silenced_at(now)
