"""A revision's verdict for the deployment gate, from the service's incident state. Pure."""

from __future__ import annotations

from ecs_watchdog.incidents.model import IncidentStatus, ServiceState


def target_has_open_incident(state: ServiceState | None, task_definition: str) -> bool | None:
    """True when an open incident names the task definition; None (undecided) while it has failed since it
    was last healthy without an incident yet; False otherwise, including a service the watchdog never saw."""
    if state is None:
        return False
    if any(i.status is IncidentStatus.OPEN and i.task_definition == task_definition for i in state.incidents.values()):
        return True
    health = state.revisions.get(task_definition)
    if health is not None and health.failures_since_healthy > 0:
        return None
    return False
