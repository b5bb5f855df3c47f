"""The incident lifecycle's primitives, shared by every rule: open, record a transition, add to the
timeline, resolve, and the look-ups of active incidents.

They change the state they are given in place (a copy the rule made with `fork`), and keep it
bounded: the outbox holds at most MAX_OUTBOX announcements, a timeline at most MAX_TIMELINE entries.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.incidents.contract import ACTIVE, MAX_OUTBOX, Result
from ecs_watchdog.incidents.model import (
    DeploymentRecord,
    Explanation,
    Incident,
    IncidentKind,
    IncidentStatus,
    ServiceState,
    TimelineEntry,
    Transition,
    TransitionKind,
)

MAX_TIMELINE = 60


def fork(state: ServiceState) -> ServiceState:
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


def open_incident(
    state: ServiceState,
    kind: IncidentKind,
    at: datetime,
    reason: str,
    *,
    task_definition: str | None,
    deployment_id: str | None,
) -> Incident:
    """A new open incident of `kind` on the state, numbered by the service's sequence (no transition yet)."""
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


def open_event_incident(
    state: ServiceState, result: Result, kind: IncidentKind, at: datetime, reason: str, record: DeploymentRecord | None
) -> None:
    """Open the incident an event (not a stop) calls for, counting the recent failures of its revision (all
    of them when it names none), and announce it (an OPENED transition on `result`)."""
    incident = open_incident(
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
    incident.category = dominant_category(incident.categories)
    incident.containment_eligible = any(c != "unknown" for c in incident.categories)
    last = state.last_failure
    cause = last if last and (record is None or last.task_definition == record.task_definition) else None
    if cause is not None:  # the event says what is wrong; the last failure says why
        incident.reason = reason = f"{reason}; last failure ({cause.category}): {cause.summary}"
    explanation = cause.explanation if cause else None
    result.transitions.append(record_transition(state, incident, TransitionKind.OPENED, at, reason, explanation))


def resolve_active(state: ServiceState, result: Result, at: datetime, why: str) -> bool:
    """Resolve every active incident not updated after `at`; whether any was."""
    resolved = False
    for incident in active_incidents(state):
        if incident.updated_at > at:
            continue  # a late event from before the incident's latest failure resolves nothing
        incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.RESOLVED, at, at
        result.transitions.append(record_transition(state, incident, TransitionKind.RESOLVED, at, why))
        resolved = True
    return resolved


def record_transition(
    state: ServiceState,
    incident: Incident,
    kind: TransitionKind,
    at: datetime,
    summary: str,
    explanation: Explanation | None = None,
) -> Transition:
    """A transition of `incident`, on its timeline and in the outbox (people are told of it)."""
    add_to_timeline(incident, at, "transition", f"{kind}: {summary}")
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


def add_to_timeline(incident: Incident, at: datetime, kind: str, detail: str, category: str | None = None) -> None:
    """One entry on the incident's timeline; a repeat of the last (same kind and category) only counts it."""
    last = incident.timeline[-1] if incident.timeline else None
    if category is not None and last is not None and last.kind == kind and last.category == category:
        # A crash loop is thousands of identical failures: one entry says "N of these, until T".
        incident.timeline[-1] = last.model_copy(update={"count": last.count + 1, "until": at})
        return
    incident.timeline.append(TimelineEntry(at=at, kind=kind, detail=detail, category=category))
    del incident.timeline[:-MAX_TIMELINE]


def note_on_active(state: ServiceState, at: datetime, kind: str, detail: str) -> None:
    """One entry on the timeline of every active incident."""
    for incident in active_incidents(state):
        add_to_timeline(incident, at, kind, detail)


def active_incidents(state: ServiceState) -> list[Incident]:
    """The service's open or contained incidents."""
    return [i for i in state.incidents.values() if i.status in ACTIVE]


def has_active(state: ServiceState) -> bool:
    """Whether the service has an open or contained incident."""
    return bool(active_incidents(state))


def dominant_category(categories: dict[str, int]) -> str | None:
    """The category with the most failures, if any."""
    # Ties break by name so the answer is deterministic.
    return max(sorted(categories), key=lambda c: categories[c]) if categories else None


def latest(a: datetime | None, b: datetime) -> datetime:
    """The later of two times (the first may be unknown)."""
    return b if a is None or b > a else a


def short_revision(task_definition: str | None) -> str:
    """A task definition ARN as people read it (`family:revision`)."""
    return task_definition.rsplit("/", 1)[-1] if task_definition else "unknown revision"
