"""A revision's verdict for the deployment gate, from the service's incident state. Pure."""

from __future__ import annotations

from ecs_watchdog.incidents.model import Incident, IncidentStatus, ServiceState, TransitionKind

# How deployments.py records that ECS itself rolled the revision back (circuit breaker, CloudWatch alarm).
ECS_ROLLBACK = "ecs_rollback"


def revision_held_back(state: ServiceState | None, task_definition: str) -> bool | None:
    """Whether the gate holds this task definition back: True, False, or None while undecided.

    Held back (True) like a revision with an open incident is one that failed and was contained:
    - an OPEN or CONTAINED incident names it, or containment took a service away from it and no task of
      it has been healthy since (`ServiceState.failing_revisions`);
    - its incident was contained (by ECS's own rollback, or the watchdog's) and then resolved — by the
      rollback's completion, a healthy run of another revision — and no task of it has been healthy since.
    A healthy run of the revision itself releases it, and so does a person's restore of it until it fails
    again. Undecided (None): it has failed since it was last
    healthy, without an incident yet. False otherwise, including a service the watchdog never saw.
    """
    if state is None:
        return False
    health = state.revisions.get(task_definition)
    if health is not None and health.cleared:
        return False  # a person put it back (restore) and it has not failed since: their call
    if task_definition in state.failing_revisions() or _contained_since_healthy(state, task_definition):
        return True
    if health is not None and health.failures_since_healthy > 0:
        return None
    return False


def _contained_since_healthy(state: ServiceState, task_definition: str) -> bool:
    """A resolved (not yet closed) incident of the revision was contained, and the revision has not been
    healthy since it resolved: the rollback away from it resolved it, not a run of its own."""
    health = state.revisions.get(task_definition)
    healthy_at = health.healthy_at if health else None
    for incident in state.incidents.values():
        if incident.task_definition != task_definition or incident.status is not IncidentStatus.RESOLVED:
            continue
        resolved_at = incident.resolved_at or incident.updated_at
        if _was_contained(incident) and (healthy_at is None or healthy_at < resolved_at):
            return True
    return False


def _was_contained(incident: Incident) -> bool:
    if (incident.containment or {}).get("outcome") == ECS_ROLLBACK:
        return True
    contained = f"{TransitionKind.CONTAINED}:"
    return any(e.kind == "transition" and e.detail.startswith(contained) for e in incident.timeline)
