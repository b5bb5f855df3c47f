"""Failed stops and the loop rules: count one failed stop, then open, update or reopen the service's incident.

A stop is counted once (duplicates and later states of a counted task change nothing), never when it
predates its revision being seen healthy or its incident being resolved. It opens an incident when it
completes a loop rule: a revision never seen healthy failing `threshold` times (failing deployment),
the same category `threshold` times within the window after being healthy (crash loop), or a
deterministic cause a probe confirmed. Before the threshold, a new revision's failure opens it when the
service's tasks say there is nothing left to wait for (`early`: contain/transient.py's nothing_survived),
unless the service's own `ecs-watchdog:threshold` tag says how many failures to wait for. A failure
whose cause is the platform's (capacity, provisioning, host health, rate limits: incidents/causes.py)
never counts toward a loop: it is noted in an incident already open, nothing more (the pipeline gives
it to the cluster's infrastructure incident).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ecs_watchdog.incidents.causes import default_cause, is_platform, stop_cause
from ecs_watchdog.incidents.contract import Result, StopFacts
from ecs_watchdog.incidents.lifecycle import (
    active_incidents,
    add_to_timeline,
    count_cause,
    dominant_category,
    fork,
    judge_containment,
    latest,
    open_incident,
    record_transition,
    short_revision,
)
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
    TransitionKind,
)
from ecs_watchdog.incidents.policy import LoopPolicy

# The state as it stands -> why the failure is a failing deployment before the threshold, or None.
EarlyEvidence = Callable[[ServiceState], str | None]

MAX_SEEN_TASKS = 300  # dedupe memory per service: EventBridge and SQS duplicates arrive within minutes
MIN_RECENT_FAILURES = 10  # recent failures kept: the threshold's worth, and never fewer than this


def apply_stop(
    state: ServiceState,
    stop: StopFacts,
    policy: LoopPolicy,
    probe_confirmed: bool = False,
    early: EarlyEvidence | None = None,
) -> Result:
    """Count one failed stop and open, update or reopen the service's incident.

    Duplicates (same task seen before, whatever its version) change nothing. `probe_confirmed`
    is a probe's verdict that the cause is real (e.g. the image tag really does not exist). `early`,
    asked only for a revision never seen healthy and below the threshold: why this failure already is a
    failing deployment, or None.
    """
    if stop.task_id in state.seen_tasks:
        return Result(state, note="duplicate or later state of a stop already counted")
    result = Result(fork(state), changed=True)
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
    cause = stop_cause(stop.category, stop.cause, stop.task_definition, new.last_known_good)
    failure_line = f"{stop.category}: task {stop.task_id} of {short_revision(stop.task_definition)}"
    if is_platform(cause):
        # Remembered (so a start-impaired event it explains opens nothing: service_action_events.py), never counted.
        _remember(new, stop, cause, policy)
        active = _active_incident_for(new, stop.task_definition)
        if active is not None and active.status is IncidentStatus.OPEN:
            _count(active, stop, failure_line, cause)
            result.note = f"a platform failure: noted in incident {active.id}, not counted toward the loop"
        else:
            result.note = "a platform failure: not counted toward the service's failure loop"
        return result
    health.failures_since_healthy += 1
    health.last_failure_at = stop.at
    _remember(new, stop, cause, policy)
    new.updated_at = latest(new.updated_at, stop.at)
    new.last_failure = LastFailure(
        at=stop.at,
        task_definition=stop.task_definition,
        category=stop.category,
        summary=stop.summary,
        explanation=stop.explanation or Explanation(),
    )

    active = _active_incident_for(new, stop.task_definition)
    if active is not None and _redeployed_after_containment(active, stop):
        # The revision it was contained for came back in a new deployment: open again, so that it can be
        # acted on again (containment acts once per deployment).
        active.status, active.deployment_id = IncidentStatus.OPEN, stop.deployment_id
        _count(active, stop, failure_line, cause)
        result.transitions.append(
            record_transition(
                new,
                active,
                TransitionKind.REOPENED,
                stop.at,
                f"{short_revision(stop.task_definition)} was deployed again ({stop.deployment_id}) and fails: "
                f"{failure_line}",
                stop.explanation,
            )
        )
        result.note = f"reopened {active.id} for deployment {stop.deployment_id}"
        return result
    if active is not None:
        _count(active, stop, failure_line, cause)
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
        resolved.deployment_id = stop.deployment_id or resolved.deployment_id  # what it fails in now
        _count(resolved, stop, failure_line, cause)
        result.transitions.append(
            record_transition(
                new, resolved, TransitionKind.REOPENED, stop.at, f"failures resumed: {failure_line}", stop.explanation
            )
        )
        result.note = f"reopened {resolved.id}"
        return result

    kind, reason = _loop_rule(new, stop, policy, probe_confirmed, early)
    if kind is None:
        result.note = reason
        return result
    incident = open_incident(
        new, kind, stop.at, reason, task_definition=stop.task_definition, deployment_id=stop.deployment_id
    )
    for failure in new.recent_failures:
        if is_platform(failure.cause):
            continue
        if failure.task_definition == stop.task_definition or kind is IncidentKind.CRASH_LOOP:
            if kind is IncidentKind.CRASH_LOOP and failure.category != stop.category:
                continue
            incident.categories[failure.category] = incident.categories.get(failure.category, 0) + 1
            count_cause(incident, failure.cause or default_cause(failure.category))
    incident.failures = (
        health.failures_since_healthy
        if kind is not IncidentKind.CRASH_LOOP
        else incident.categories.get(stop.category, 1)
    )
    incident.category = dominant_category(incident.categories) or stop.category
    judge_containment(incident)
    add_to_timeline(incident, stop.at, "failure", failure_line, stop.category)
    result.transitions.append(
        record_transition(new, incident, TransitionKind.OPENED, stop.at, reason, stop.explanation)
    )
    result.note = f"opened {incident.id}"
    return result


def _loop_rule(
    state: ServiceState, stop: StopFacts, policy: LoopPolicy, probe_confirmed: bool, early: EarlyEvidence | None
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
                f"{health.failures_since_healthy} failures of {short_revision(stop.task_definition)}, which has "
                f"never been healthy (threshold {threshold}); last: {stop.summary}"
            )
        why = early(state) if early is not None and state.threshold_override is None else None
        if why:
            return IncidentKind.FAILING_DEPLOYMENT, (
                f"failure {health.failures_since_healthy} of {short_revision(stop.task_definition)}, which has "
                f"never been healthy, before the threshold of {threshold}: {why}; last: {stop.summary}"
            )
        return None, f"failure {health.failures_since_healthy} of {threshold} for a revision never seen healthy"
    same = sum(
        1
        for f in state.recent_failures
        if f.category == stop.category and not is_platform(f.cause) and _after_healthy(state, f)
    )
    if same >= threshold:
        minutes = int(policy.crash_loop_window.total_seconds() // 60)
        return IncidentKind.CRASH_LOOP, (
            f"{same} {stop.category} failures within {minutes} min of {short_revision(stop.task_definition)}, "
            f"which was healthy before (threshold {threshold}); last: {stop.summary}"
        )
    return None, f"{same} of {threshold} {stop.category} failures within the window"


def _remember(state: ServiceState, stop: StopFacts, cause: str | None, policy: LoopPolicy) -> None:
    """Keep the failure among the recent ones (within the crash-loop window, at least the threshold's worth)."""
    state.recent_failures.append(
        RecentFailure(at=stop.at, category=stop.category, task_definition=stop.task_definition, cause=cause)
    )
    keep = max(policy.threshold(state.threshold_override), MIN_RECENT_FAILURES)
    state.recent_failures = [f for f in state.recent_failures if f.at >= stop.at - policy.crash_loop_window][-keep:]


def _after_healthy(state: ServiceState, failure: RecentFailure) -> bool:
    """Whether a failure happened after its revision was last seen healthy (so it counts in a loop)."""
    health = state.revisions.get(failure.task_definition)
    return health is None or health.healthy_at is None or failure.at > health.healthy_at


def _count(incident: Incident, stop: StopFacts, line: str, cause: str | None) -> None:
    incident.failures += 1
    incident.categories[stop.category] = incident.categories.get(stop.category, 0) + 1
    count_cause(incident, cause)
    incident.category = dominant_category(incident.categories)
    judge_containment(incident)
    incident.task_definition = incident.task_definition or stop.task_definition
    incident.updated_at = stop.at
    add_to_timeline(incident, stop.at, "failure", line, stop.category)


def _redeployed_after_containment(incident: Incident, stop: StopFacts) -> bool:
    return (
        incident.status is IncidentStatus.CONTAINED
        and stop.deployment_id is not None
        and incident.deployment_id is not None
        and stop.deployment_id != incident.deployment_id
        and incident.task_definition == stop.task_definition
    )


def _active_incident_for(state: ServiceState, task_definition: str) -> Incident | None:
    active = active_incidents(state)
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


def _trim_dict(values: dict[str, int], limit: int) -> None:
    for key in list(values)[: max(0, len(values) - limit)]:
        del values[key]
