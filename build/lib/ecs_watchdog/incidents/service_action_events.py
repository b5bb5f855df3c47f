"""One `ECS Service Action` event applied to a service's state, as its rule in `service_action_rules.py` says.

`service_action_rules.py` is the table (what each event name means); this module acts on it: a `resolve`
(steady state) resolves the active incidents and makes the completed revision the last known good, an
`open` (start impaired, configuration failure) opens an incident unless one is active, and a `note`
only joins an active incident's timeline.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.incidents.contract import Result, ServiceSnapshot
from ecs_watchdog.incidents.deployments import mark_healthy, reconcile
from ecs_watchdog.incidents.lifecycle import (
    fork,
    has_active,
    latest,
    note_on_active,
    open_event_incident,
    resolve_active,
)
from ecs_watchdog.incidents.model import DeploymentRecord, IncidentKind, ServiceState
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_action_rules import rule_for


def apply_service_action(
    state: ServiceState,
    event_name: str,
    at: datetime,
    reason: str,
    snapshot: ServiceSnapshot | None,
    policy: LoopPolicy,
) -> Result:
    """Steady state resolves; start impaired opens; other actions join an active incident's timeline."""
    result = Result(fork(state), changed=True)
    new = result.state
    new.updated_at = latest(new.updated_at, at)
    if rule_for(event_name).effect == "resolve":
        if snapshot is not None:
            reconcile(new, snapshot, at)
        completed = snapshot.completed() if snapshot else None
        if completed is not None:
            mark_healthy(new, completed.task_definition, at, "steady_state")
        if not resolve_active(new, result, at, "service reached a steady state") and completed is None:
            return Result(state, note="steady state, nothing to resolve")
        return result
    rule = rule_for(event_name)
    line = f"{event_name}: {reason}".strip(": ")
    if rule.effect == "open":
        if has_active(new):
            note_on_active(new, at, "service_action", line)
            return result
        primary = next((d for d in snapshot.deployments if d.status == "PRIMARY"), None) if snapshot else None
        record = DeploymentRecord(id=primary.id, task_definition=primary.task_definition) if primary else None
        kind = (
            IncidentKind.START_IMPAIRED
            if event_name == "SERVICE_TASK_START_IMPAIRED"
            else IncidentKind.CONFIGURATION_FAILURE
        )
        meaning = rule.meaning if not reason or kind is IncidentKind.START_IMPAIRED else f"{rule.meaning}: {reason}"
        open_event_incident(new, result, kind, at, meaning, record)
        return result
    if has_active(new):
        note_on_active(new, at, "service_action", line)
        return result
    return Result(state, note=f"{event_name} with no active incident: not acted on ({rule.meaning})")
