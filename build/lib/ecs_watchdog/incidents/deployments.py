"""A service's deployments as ECS reports them, and the last known good that follows from them.

Deployment events arrive out of order and twice; DescribeServices' snapshot has the last word on which
deployments are still in progress (`reconcile`) and, on first sight of a service, on its last known
good (`bootstrap`, never guessed). A completed deployment makes its revision the last known good
(`mark_healthy`) and resolves; a failed one opens (and a rollback contains); two in progress at once
open an overlapping-deployments incident.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.incidents.contract import Result, ServiceSnapshot
from ecs_watchdog.incidents.lifecycle import (
    active_incidents,
    fork,
    has_active,
    latest,
    note_on_active,
    open_event_incident,
    open_incident,
    record_transition,
    resolve_active,
    short_revision,
)
from ecs_watchdog.incidents.model import (
    DeploymentRecord,
    IncidentKind,
    IncidentStatus,
    RevisionHealth,
    ServiceState,
    TransitionKind,
)
from ecs_watchdog.incidents.policy import LoopPolicy


def apply_deployment_event(
    state: ServiceState,
    event_name: str,
    deployment_id: str,
    at: datetime,
    reason: str,
    snapshot: ServiceSnapshot | None,
    policy: LoopPolicy,
) -> Result:
    """Track a deployment's state; a completed deployment sets the last known good and resolves."""
    result = Result(fork(state), changed=True)
    new = result.state
    known = {d.id: d for d in snapshot.deployments} if snapshot else {}
    record = new.deployments.get(deployment_id) or DeploymentRecord(id=deployment_id)
    if record.task_definition is None and deployment_id in known:
        record.task_definition = known[deployment_id].task_definition
    status = {
        "SERVICE_DEPLOYMENT_IN_PROGRESS": "IN_PROGRESS",
        "SERVICE_DEPLOYMENT_COMPLETED": "COMPLETED",
        "SERVICE_DEPLOYMENT_FAILED": "FAILED",
    }.get(event_name)
    if status is None:
        return Result(state, note=f"deployment event {event_name} not tracked")
    if status == "IN_PROGRESS" and deployment_id not in known:
        # A late IN_PROGRESS of a deployment ECS no longer lists (or of a service ECS does not know)
        # would become a phantom that later looks stuck.
        return Result(state, note=f"IN_PROGRESS of deployment {deployment_id}, which ECS no longer lists: ignored")
    # Events arrive out of order and twice: an older event, or the same one again, changes nothing;
    # a terminal state is never overwritten by IN_PROGRESS.
    if record.updated_at and (at < record.updated_at or (at == record.updated_at and record.status == status)):
        return Result(state, note="stale or duplicate deployment event")
    if not (record.status in ("COMPLETED", "FAILED") and status == "IN_PROGRESS"):
        record.status = status
    record.updated_at = at
    record.started_at = record.started_at or at
    new.deployments[deployment_id] = record
    new.updated_at = latest(new.updated_at, at)
    if snapshot is not None:
        reconcile(new, snapshot, at, keep=deployment_id)
    line = f"{event_name} {deployment_id} ({short_revision(record.task_definition)}): {reason}".strip()
    note_on_active(new, at, "deployment", line)

    if status == "COMPLETED":
        # ECS drains every other deployment once one completes: none of them is in progress any more.
        for other in new.deployments.values():
            if other.id != deployment_id and other.status in ("IN_PROGRESS", ""):
                other.status, other.updated_at = "INACTIVE", at
    if status == "COMPLETED" and record.task_definition:
        mark_healthy(new, record.task_definition, at, "deployment_completed")
        resolve_active(
            new, result, at, f"deployment {deployment_id} completed ({short_revision(record.task_definition)})"
        )
    elif status == "FAILED":
        if not has_active(new):
            open_event_incident(
                new,
                result,
                IncidentKind.FAILING_DEPLOYMENT,
                at,
                f"ECS marked deployment {deployment_id} failed: {reason}",
                record,
            )
        if "roll" in reason.lower():
            # The circuit breaker or a CloudWatch alarm rolled it back: that contained the incident, and the
            # revision is proven bad until a task of it is healthy (never a rollback target, held by the gate).
            if record.task_definition:
                new.revisions.setdefault(record.task_definition, RevisionHealth()).contained_at = at
            for incident in active_incidents(new):
                if incident.status is IncidentStatus.OPEN:
                    incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
                    incident.containment = incident.containment or {"outcome": "ecs_rollback", "reason": reason}
                    result.transitions.append(
                        record_transition(
                            new, incident, TransitionKind.CONTAINED, at, f"ECS rolled the deployment back: {reason}"
                        )
                    )
    elif status == "IN_PROGRESS" and snapshot is not None:
        _check_overlap(new, result, snapshot, at)
    _trim_deployments(new)
    return result


def bootstrap(state: ServiceState, snapshot: ServiceSnapshot, at: datetime) -> ServiceState:
    """First sight of a service: its last known good from DescribeServices (never guessed) and tags."""
    new = fork(state)
    new.bootstrapped = True
    new.threshold_override = snapshot.threshold_override
    new.action_tag = snapshot.tags.get("ecs-watchdog:action")
    completed = snapshot.completed()
    if completed is not None and new.last_known_good is None:
        new.last_known_good = completed.task_definition
        new.last_known_good_source = "describe_services"
        new.last_known_good_at = at
    for deployment in snapshot.deployments:
        record = new.deployments.setdefault(deployment.id, DeploymentRecord(id=deployment.id))
        record.task_definition = record.task_definition or deployment.task_definition
        if deployment.rollout_state and not record.status:
            record.status = deployment.rollout_state
        record.started_at = record.started_at or deployment.created_at
    return new


def reconcile(state: ServiceState, snapshot: ServiceSnapshot, at: datetime, keep: str | None = None) -> None:
    """Take DescribeServices' word for deployments' states: a deployment it no longer shows, or shows
    as finished, is not in progress (its own terminal event may have been lost)."""
    shown = {d.id: d for d in snapshot.deployments}
    for record in state.deployments.values():
        if record.id == keep or record.status not in ("IN_PROGRESS", ""):
            continue
        current = shown.get(record.id)
        if current is None:
            record.status, record.updated_at = "INACTIVE", at
        elif current.rollout_state in ("COMPLETED", "FAILED"):
            record.status, record.updated_at = current.rollout_state, at
        elif current.rollout_state == "IN_PROGRESS":
            record.status = "IN_PROGRESS"


def mark_healthy(state: ServiceState, task_definition: str, at: datetime, source: str) -> None:
    """The revision was seen healthy: it becomes the last known good and its failures count from zero."""
    state.last_known_good, state.last_known_good_source, state.last_known_good_at = task_definition, source, at
    health = state.revisions.setdefault(task_definition, RevisionHealth())
    health.failures_since_healthy, health.healthy_at = 0, at


def _check_overlap(state: ServiceState, result: Result, snapshot: ServiceSnapshot, at: datetime) -> None:
    running = snapshot.in_progress()
    if len(running) < 2:
        return
    names = ", ".join(f"{d.id} ({short_revision(d.task_definition)})" for d in running)
    if has_active(state):  # one incident per service at a time: the overlap joins the active one's timeline
        note_on_active(state, at, "deployment", f"{len(running)} deployments IN_PROGRESS: {names}")
        return
    incident = open_incident(
        state,
        IncidentKind.OVERLAPPING_DEPLOYMENTS,
        at,
        f"{len(running)} deployments IN_PROGRESS: {names}",
        task_definition=running[0].task_definition,
        deployment_id=running[0].id,
    )
    result.transitions.append(record_transition(state, incident, TransitionKind.OPENED, at, incident.reason))


def _trim_deployments(state: ServiceState, keep: int = 20) -> None:
    for key in list(state.deployments)[: max(0, len(state.deployments) - keep)]:
        del state.deployments[key]
