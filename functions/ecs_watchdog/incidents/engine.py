"""The incident engine: pure functions from (service state, event, now) to (new state, transitions).

No boto3, no clock: callers pass "now" (from the event or an injected clock) and whatever they
looked up (a DescribeServices snapshot, a probe verdict). Each function works on a copy and says
whether the state changed, so callers write only when it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ecs_watchdog.incidents.model import (
    DeploymentRecord,
    Explanation,
    Incident,
    IncidentKind,
    IncidentStatus,
    LastFailure,
    RecentFailure,
    RevisionHealth,
    ServiceState,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_actions import rule_for

MAX_SEEN_TASKS = 300  # dedupe memory per service: EventBridge and SQS duplicates arrive within minutes
MIN_RECENT_FAILURES = 10  # recent failures kept: the threshold's worth, and never fewer than this
MAX_TIMELINE = 60
MAX_OUTBOX = 50
ACTIVE = (IncidentStatus.OPEN, IncidentStatus.CONTAINED)


@dataclass(frozen=True)
class StopFacts:
    """What the engine needs to know about one failed stop (built from a Stop + Classification)."""

    task_id: str
    version: int
    task_definition: str
    deployment_id: str | None
    category: str
    at: datetime
    summary: str
    explanation: Explanation | None = None


@dataclass(frozen=True)
class DeploymentSnapshot:
    """One deployment as DescribeServices shows it."""

    id: str
    task_definition: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED
    created_at: datetime | None = None


@dataclass(frozen=True)
class ServiceSnapshot:
    """What DescribeServices said about a service: its deployments and tags."""

    deployments: tuple[DeploymentSnapshot, ...]
    tags: dict[str, str] = field(default_factory=dict)
    threshold_override: int | None = None

    def completed(self) -> DeploymentSnapshot | None:
        """The deployment that last completed: the PRIMARY when it completed, else the newest COMPLETED."""
        done = [d for d in self.deployments if d.rollout_state == "COMPLETED"]
        primary = [d for d in done if d.status == "PRIMARY"]
        if primary:
            return primary[0]
        return max(done, key=lambda d: d.created_at.timestamp() if d.created_at else 0.0, default=None)

    def in_progress(self) -> list[DeploymentSnapshot]:
        return [d for d in self.deployments if d.rollout_state == "IN_PROGRESS"]


@dataclass
class Result:
    """The engine's answer: the new state, the transitions it caused, and whether to write it."""

    state: ServiceState
    transitions: list[Transition] = field(default_factory=list)
    changed: bool = False
    note: str = ""


# --------------------------------------------------------------------------------------------------
# Stops


def apply_stop(
    state: ServiceState,
    stop: StopFacts,
    policy: LoopPolicy,
    probe_confirmed: bool = False,
) -> Result:
    """Count one failed stop and open, update or reopen the service's incident.

    Duplicates (same task seen before, whatever its version) change nothing. `probe_confirmed`
    is a probe's verdict that the cause is real (e.g. the image tag really does not exist).
    """
    if stop.task_id in state.seen_tasks:
        return Result(state, note="duplicate or later state of a stop already counted")
    result = Result(_fork(state), changed=True)
    new = result.state
    new.seen_tasks[stop.task_id] = stop.version
    _trim_dict(new.seen_tasks, MAX_SEEN_TASKS)
    if stop.deployment_id and stop.deployment_id not in new.deployments:
        new.deployments[stop.deployment_id] = DeploymentRecord(
            id=stop.deployment_id, task_definition=stop.task_definition
        )
    health = new.revisions.setdefault(stop.task_definition, RevisionHealth())
    if health.healthy_at is not None and stop.at <= health.healthy_at:
        # EventBridge does not promise order: a failure from before the revision was seen healthy says
        # nothing about it now. Remembered as seen, never counted.
        result.note = "a late stop from before its revision was seen healthy: not counted"
        return result
    settled = new.settled.get(stop.task_definition) or new.settled.get("*")
    if settled is not None and stop.at <= settled:
        result.note = "a late stop from before its (closed) incident was resolved: not counted"
        return result
    health.failures_since_healthy += 1
    health.last_failure_at = stop.at
    new.recent_failures.append(RecentFailure(at=stop.at, category=stop.category, task_definition=stop.task_definition))
    keep = max(policy.threshold(new.threshold_override), MIN_RECENT_FAILURES)
    new.recent_failures = [f for f in new.recent_failures if f.at >= stop.at - policy.crash_loop_window][-keep:]
    new.updated_at = _latest(new.updated_at, stop.at)
    new.last_failure = LastFailure(
        at=stop.at,
        task_definition=stop.task_definition,
        category=stop.category,
        summary=stop.summary,
        explanation=stop.explanation or Explanation(),
    )
    failure_line = f"{stop.category}: task {stop.task_id} of {_short(stop.task_definition)}"

    active = _active_incident_for(new, stop.task_definition)
    if active is not None:
        _count(active, stop, failure_line)
        result.note = f"counted in incident {active.id}"
        return result

    if any(
        i.resolved_at is not None and stop.at <= i.resolved_at and i.task_definition in (None, stop.task_definition)
        for i in new.incidents.values()
    ):
        result.note = "a late stop from before its incident was resolved: counted, nothing reopened"
        return result

    resolved = _recently_resolved(new, stop, policy)
    if resolved is not None:
        resolved.status, resolved.resolved_at, resolved.updated_at = IncidentStatus.OPEN, None, stop.at
        _count(resolved, stop, failure_line)
        result.transitions.append(
            _transition(
                new, resolved, TransitionKind.REOPENED, stop.at, f"failures resumed: {failure_line}", stop.explanation
            )
        )
        result.note = f"reopened {resolved.id}"
        return result

    kind, reason = _loop_rule(new, stop, policy, probe_confirmed)
    if kind is None:
        result.note = reason
        return result
    incident = _open(new, kind, stop.at, reason, task_definition=stop.task_definition, deployment_id=stop.deployment_id)
    for failure in new.recent_failures:
        if failure.task_definition == stop.task_definition or kind is IncidentKind.CRASH_LOOP:
            if kind is IncidentKind.CRASH_LOOP and failure.category != stop.category:
                continue
            incident.categories[failure.category] = incident.categories.get(failure.category, 0) + 1
    incident.failures = (
        health.failures_since_healthy
        if kind is not IncidentKind.CRASH_LOOP
        else incident.categories.get(stop.category, 1)
    )
    incident.category = _dominant(incident.categories) or stop.category
    incident.containment_eligible = any(c != "unknown" for c in incident.categories)
    _timeline(incident, stop.at, "failure", failure_line, stop.category)
    result.transitions.append(_transition(new, incident, TransitionKind.OPENED, stop.at, reason, stop.explanation))
    result.note = f"opened {incident.id}"
    return result


def _loop_rule(
    state: ServiceState, stop: StopFacts, policy: LoopPolicy, probe_confirmed: bool
) -> tuple[IncidentKind | None, str]:
    """Which loop rule, if any, this failure completes; and why (or why not)."""
    threshold = policy.threshold(state.threshold_override)
    health = state.revisions[stop.task_definition]
    was_healthy = stop.task_definition == state.last_known_good or health.healthy_at is not None
    if probe_confirmed and stop.category in policy.deterministic_categories:
        return IncidentKind.DETERMINISTIC, f"{stop.category} failure confirmed by a probe: {stop.summary}"
    if not was_healthy:
        if health.failures_since_healthy >= threshold:
            return IncidentKind.FAILING_DEPLOYMENT, (
                f"{health.failures_since_healthy} failures of {_short(stop.task_definition)}, which has never been "
                f"healthy (threshold {threshold}); last: {stop.summary}"
            )
        return None, f"failure {health.failures_since_healthy} of {threshold} for a revision never seen healthy"
    same = sum(1 for f in state.recent_failures if f.category == stop.category and _after_healthy(state, f))
    if same >= threshold:
        minutes = int(policy.crash_loop_window.total_seconds() // 60)
        return IncidentKind.CRASH_LOOP, (
            f"{same} {stop.category} failures within {minutes} min of {_short(stop.task_definition)}, which was "
            f"healthy before (threshold {threshold}); last: {stop.summary}"
        )
    return None, f"{same} of {threshold} {stop.category} failures within the window"


def _after_healthy(state: ServiceState, failure: RecentFailure) -> bool:
    """Whether a failure happened after its revision was last seen healthy (so it counts in a loop)."""
    health = state.revisions.get(failure.task_definition)
    return health is None or health.healthy_at is None or failure.at > health.healthy_at


# --------------------------------------------------------------------------------------------------
# Deployment and service events


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
    result = Result(_fork(state), changed=True)
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
    new.updated_at = _latest(new.updated_at, at)
    if snapshot is not None:
        _reconcile(new, snapshot, at, keep=deployment_id)
    line = f"{event_name} {deployment_id} ({_short(record.task_definition)}): {reason}".strip()
    _note_on_active(new, at, "deployment", line)

    if status == "COMPLETED":
        # ECS drains every other deployment once one completes: none of them is in progress any more.
        for other in new.deployments.values():
            if other.id != deployment_id and other.status in ("IN_PROGRESS", ""):
                other.status, other.updated_at = "INACTIVE", at
    if status == "COMPLETED" and record.task_definition:
        _mark_healthy(new, record.task_definition, at, "deployment_completed")
        _resolve_all(new, result, at, f"deployment {deployment_id} completed ({_short(record.task_definition)})")
    elif status == "FAILED":
        if not _active(new):
            _open_event_incident(
                new,
                result,
                IncidentKind.FAILING_DEPLOYMENT,
                at,
                f"ECS marked deployment {deployment_id} failed: {reason}",
                record,
            )
        if "roll" in reason.lower():
            # The circuit breaker or a CloudWatch alarm rolled it back: that contained the incident.
            for incident in _active_all(new):
                if incident.status is IncidentStatus.OPEN:
                    incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
                    incident.containment = incident.containment or {"outcome": "ecs_rollback", "reason": reason}
                    result.transitions.append(
                        _transition(
                            new, incident, TransitionKind.CONTAINED, at, f"ECS rolled the deployment back: {reason}"
                        )
                    )
    elif status == "IN_PROGRESS" and snapshot is not None:
        _check_overlap(new, result, snapshot, at)
    _trim_deployments(new)
    return result


def apply_service_action(
    state: ServiceState,
    event_name: str,
    at: datetime,
    reason: str,
    snapshot: ServiceSnapshot | None,
    policy: LoopPolicy,
) -> Result:
    """Steady state resolves; start impaired opens; other actions join an active incident's timeline."""
    result = Result(_fork(state), changed=True)
    new = result.state
    new.updated_at = _latest(new.updated_at, at)
    if rule_for(event_name).effect == "resolve":
        if snapshot is not None:
            _reconcile(new, snapshot, at)
        completed = snapshot.completed() if snapshot else None
        if completed is not None:
            _mark_healthy(new, completed.task_definition, at, "steady_state")
        if not _resolve_all(new, result, at, "service reached a steady state") and completed is None:
            return Result(state, note="steady state, nothing to resolve")
        return result
    rule = rule_for(event_name)
    line = f"{event_name}: {reason}".strip(": ")
    if rule.effect == "open":
        if _active(new):
            _note_on_active(new, at, "service_action", line)
            return result
        primary = next((d for d in snapshot.deployments if d.status == "PRIMARY"), None) if snapshot else None
        record = DeploymentRecord(id=primary.id, task_definition=primary.task_definition) if primary else None
        kind = (
            IncidentKind.START_IMPAIRED
            if event_name == "SERVICE_TASK_START_IMPAIRED"
            else IncidentKind.CONFIGURATION_FAILURE
        )
        meaning = rule.meaning if not reason or kind is IncidentKind.START_IMPAIRED else f"{rule.meaning}: {reason}"
        _open_event_incident(new, result, kind, at, meaning, record)
        return result
    if _active(new):
        _note_on_active(new, at, "service_action", line)
        return result
    return Result(state, note=f"{event_name} with no active incident: not acted on ({rule.meaning})")


def check_timers(state: ServiceState, now: datetime, policy: LoopPolicy) -> Result:
    """Open stuck-deployment incidents and close resolved incidents that stayed quiet for a window."""
    stuck = not _active(state) and any(_is_stuck(r, now, policy) for r in state.deployments.values())
    quiet = any(
        i.status is IncidentStatus.RESOLVED and i.resolved_at and now - i.resolved_at >= policy.crash_loop_window
        for i in state.incidents.values()
    )
    if not (stuck or quiet):
        return Result(state)  # the common case: nothing due, nothing copied
    result = Result(_fork(state))
    new = result.state
    for record in new.deployments.values():
        if _is_stuck(record, now, policy) and not _active(new):
            minutes = int((now - record.started_at).total_seconds() // 60) if record.started_at else 0
            record.stuck_reported = True
            _open_event_incident(
                new,
                result,
                IncidentKind.STUCK_DEPLOYMENT,
                now,
                f"deployment {record.id} has been IN_PROGRESS for {minutes} min",
                record,
            )
            result.changed = True
    for incident in list(new.incidents.values()):
        if (
            incident.status is IncidentStatus.RESOLVED
            and incident.resolved_at
            and now - incident.resolved_at >= policy.crash_loop_window
        ):
            incident.status, incident.closed_at, incident.updated_at = IncidentStatus.CLOSED, now, now
            key = incident.task_definition or "*"
            new.settled[key] = max(new.settled.get(key, incident.resolved_at), incident.resolved_at)
            _trim_settled(new.settled)
            result.transitions.append(
                _transition(new, incident, TransitionKind.CLOSED, now, "no failures since it was resolved")
            )
            del new.incidents[incident.id]
            result.changed = True
    return result


def apply_containment(state: ServiceState, incident_id: str, action: str, took_effect: bool, at: datetime) -> Result:
    """Record a containment action's outcome; one that took effect makes the incident contained."""
    incident = state.incidents.get(incident_id)
    if incident is None or incident.status is not IncidentStatus.OPEN:
        return Result(state, note=f"no open incident {incident_id}")
    result = Result(_fork(state), changed=True)
    incident = result.state.incidents[incident_id]
    _timeline(incident, at, "action", f"{action}: {'took effect' if took_effect else 'did not take effect'}")
    if took_effect:
        incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
        result.transitions.append(_transition(result.state, incident, TransitionKind.CONTAINED, at, action))
    return result


def bootstrap(state: ServiceState, snapshot: ServiceSnapshot, at: datetime) -> ServiceState:
    """First sight of a service: its last known good from DescribeServices (never guessed) and tags."""
    new = _fork(state)
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


def mark_delivered(state: ServiceState, transition_ids: Iterable[str]) -> ServiceState:
    """Drop delivered transitions from the outbox."""
    delivered = set(transition_ids)
    new = _fork(state)
    new.outbox = [t for t in new.outbox if t.id not in delivered]
    return new


# --------------------------------------------------------------------------------------------------
# Helpers


def _open(
    state: ServiceState,
    kind: IncidentKind,
    at: datetime,
    reason: str,
    *,
    task_definition: str | None,
    deployment_id: str | None,
) -> Incident:
    state.incident_sequence += 1
    service_name = state.service.rsplit("/", 1)[-1]
    incident = Incident(
        id=f"{service_name}-{at:%Y%m%dT%H%M%SZ}-{state.incident_sequence}",
        service=state.service,
        kind=kind,
        task_definition=task_definition,
        deployment_id=deployment_id,
        last_known_good=state.last_known_good,
        opened_at=at,
        updated_at=at,
        reason=reason,
    )
    state.incidents[incident.id] = incident
    return incident


def _open_event_incident(
    state: ServiceState, result: Result, kind: IncidentKind, at: datetime, reason: str, record: DeploymentRecord | None
) -> None:
    incident = _open(
        state,
        kind,
        at,
        reason,
        task_definition=record.task_definition if record else None,
        deployment_id=record.id if record else None,
    )
    recent = [f for f in state.recent_failures if record is None or f.task_definition == record.task_definition]
    for failure in recent:
        incident.categories[failure.category] = incident.categories.get(failure.category, 0) + 1
    incident.failures = len(recent)
    incident.category = _dominant(incident.categories)
    incident.containment_eligible = any(c != "unknown" for c in incident.categories)
    last = state.last_failure
    cause = last if last and (record is None or last.task_definition == record.task_definition) else None
    if cause is not None:  # the event says what is wrong; the last failure says why
        incident.reason = reason = f"{reason}; last failure ({cause.category}): {cause.summary}"
    explanation = cause.explanation if cause else None
    result.transitions.append(_transition(state, incident, TransitionKind.OPENED, at, reason, explanation))


def _is_stuck(record: DeploymentRecord, now: datetime, policy: LoopPolicy) -> bool:
    return bool(
        record.status == "IN_PROGRESS"
        and not record.stuck_reported
        and record.started_at
        and now - record.started_at > policy.stuck_deployment_after
    )


def _reconcile(state: ServiceState, snapshot: ServiceSnapshot, at: datetime, keep: str | None = None) -> None:
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


def _check_overlap(state: ServiceState, result: Result, snapshot: ServiceSnapshot, at: datetime) -> None:
    running = snapshot.in_progress()
    if len(running) < 2:
        return
    names = ", ".join(f"{d.id} ({_short(d.task_definition)})" for d in running)
    if _active(state):  # one incident per service at a time: the overlap joins the active one's timeline
        _note_on_active(state, at, "deployment", f"{len(running)} deployments IN_PROGRESS: {names}")
        return
    incident = _open(
        state,
        IncidentKind.OVERLAPPING_DEPLOYMENTS,
        at,
        f"{len(running)} deployments IN_PROGRESS: {names}",
        task_definition=running[0].task_definition,
        deployment_id=running[0].id,
    )
    result.transitions.append(_transition(state, incident, TransitionKind.OPENED, at, incident.reason))


def _count(incident: Incident, stop: StopFacts, line: str) -> None:
    incident.failures += 1
    incident.categories[stop.category] = incident.categories.get(stop.category, 0) + 1
    incident.category = _dominant(incident.categories)
    incident.containment_eligible = any(c != "unknown" for c in incident.categories)
    incident.task_definition = incident.task_definition or stop.task_definition
    incident.updated_at = stop.at
    _timeline(incident, stop.at, "failure", line, stop.category)


def _mark_healthy(state: ServiceState, task_definition: str, at: datetime, source: str) -> None:
    state.last_known_good, state.last_known_good_source, state.last_known_good_at = task_definition, source, at
    health = state.revisions.setdefault(task_definition, RevisionHealth())
    health.failures_since_healthy, health.healthy_at = 0, at


def _resolve_all(state: ServiceState, result: Result, at: datetime, why: str) -> bool:
    resolved = False
    for incident in _active_all(state):
        if incident.updated_at > at:
            continue  # a late event from before the incident's latest failure resolves nothing
        incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.RESOLVED, at, at
        result.transitions.append(_transition(state, incident, TransitionKind.RESOLVED, at, why))
        resolved = True
    return resolved


def _transition(
    state: ServiceState,
    incident: Incident,
    kind: TransitionKind,
    at: datetime,
    summary: str,
    explanation: Explanation | None = None,
) -> Transition:
    _timeline(incident, at, "transition", f"{kind}: {summary}")
    state.incident_sequence += 1
    transition = Transition(
        id=f"{incident.id}/{state.incident_sequence}-{kind}",
        kind=kind,
        # The timeline stays with the incident: messages do not quote it, and the outbox stays small.
        incident=incident.model_copy(update={"timeline": [], "categories": dict(incident.categories)}),
        at=at,
        summary=summary,
        explanation=explanation,
        probes=list(explanation.probes) if explanation else [],
        stopped_task=explanation.stopped_task if explanation else None,
    )
    state.outbox.append(transition)
    # Bounded, so a channel that stays down cannot grow the item past DynamoDB's 400 KB: the oldest
    # undelivered announcement gives way (the pipeline logs it).
    del state.outbox[:-MAX_OUTBOX]
    return transition


def _timeline(incident: Incident, at: datetime, kind: str, detail: str, category: str | None = None) -> None:
    last = incident.timeline[-1] if incident.timeline else None
    if category is not None and last is not None and last.kind == kind and last.category == category:
        # A crash loop is thousands of identical failures: one entry says "N of these, until T".
        incident.timeline[-1] = last.model_copy(update={"count": last.count + 1, "until": at})
        return
    incident.timeline.append(TimelineEntry(at=at, kind=kind, detail=detail, category=category))
    del incident.timeline[:-MAX_TIMELINE]


def _note_on_active(state: ServiceState, at: datetime, kind: str, detail: str) -> None:
    for incident in _active_all(state):
        _timeline(incident, at, kind, detail)


def _active_all(state: ServiceState) -> list[Incident]:
    return [i for i in state.incidents.values() if i.status in ACTIVE]


def _active(state: ServiceState) -> bool:
    return bool(_active_all(state))


def _active_incident_for(state: ServiceState, task_definition: str) -> Incident | None:
    active = _active_all(state)
    same = [i for i in active if i.task_definition == task_definition]
    # An event-opened incident (start impaired, stuck) that names no revision adopts the failures.
    return next(iter(same or [i for i in active if i.task_definition is None]), None)


def _recently_resolved(state: ServiceState, stop: StopFacts, policy: LoopPolicy) -> Incident | None:
    for incident in state.incidents.values():
        if (
            incident.status is IncidentStatus.RESOLVED
            and incident.resolved_at is not None
            # a stop from before the resolution that arrives late is not a resumption
            and timedelta(0) < stop.at - incident.resolved_at < policy.crash_loop_window
            and incident.task_definition in (None, stop.task_definition)
        ):
            return incident
    return None


def _dominant(categories: dict[str, int]) -> str | None:
    # Ties break by name so the answer is deterministic.
    return max(sorted(categories), key=lambda c: categories[c]) if categories else None


def _trim_dict(values: dict[str, int], limit: int) -> None:
    for key in list(values)[: max(0, len(values) - limit)]:
        del values[key]


def _trim_settled(settled: dict[str, datetime], keep: int = 20) -> None:
    for key in sorted(settled, key=lambda k: settled[k])[: max(0, len(settled) - keep)]:
        del settled[key]


def _trim_deployments(state: ServiceState, keep: int = 20) -> None:
    for key in list(state.deployments)[: max(0, len(state.deployments) - keep)]:
        del state.deployments[key]


def _latest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _short(task_definition: str | None) -> str:
    return task_definition.rsplit("/", 1)[-1] if task_definition else "unknown revision"


def _fork(state: ServiceState) -> ServiceState:
    """A copy the engine may change without touching the caller's state.

    Cheaper than a deep copy (which dominated replay time): containers are copied, and so are the
    records the engine changes in place; list items it only appends to are shared.
    """
    return state.model_copy(
        update={
            "seen_tasks": dict(state.seen_tasks),
            "deployments": {k: v.model_copy() for k, v in state.deployments.items()},
            "revisions": {k: v.model_copy() for k, v in state.revisions.items()},
            "recent_failures": list(state.recent_failures),
            "incidents": {
                k: v.model_copy(update={"categories": dict(v.categories), "timeline": list(v.timeline)})
                for k, v in state.incidents.items()
            },
            "outbox": list(state.outbox),
            "settled": dict(state.settled),
        }
    )
