"""What time alone changes, without an event: a deployment in progress too long opens a stuck-deployment
incident, and a resolved incident that stayed quiet for the crash-loop window closes.

Called before every rule (and by the sweep's tick for quiet services); when nothing is due it copies
nothing.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.lifecycle import fork, has_active, open_event_incident, record_transition
from ecs_watchdog.incidents.model import DeploymentRecord, IncidentKind, IncidentStatus, ServiceState, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy


def check_timers(state: ServiceState, now: datetime, policy: LoopPolicy) -> Result:
    """Open stuck-deployment incidents and close resolved incidents that stayed quiet for a window."""
    stuck = not has_active(state) and any(_is_stuck(r, now, policy) for r in state.deployments.values())
    quiet = any(
        i.status is IncidentStatus.RESOLVED and i.resolved_at and now - i.resolved_at >= policy.crash_loop_window
        for i in state.incidents.values()
    )
    if not (stuck or quiet):
        return Result(state)  # the common case: nothing due, nothing copied
    result = Result(fork(state))
    new = result.state
    for record in new.deployments.values():
        if _is_stuck(record, now, policy) and not has_active(new):
            minutes = int((now - record.started_at).total_seconds() // 60) if record.started_at else 0
            record.stuck_reported = True
            open_event_incident(
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
                record_transition(new, incident, TransitionKind.CLOSED, now, "no failures since it was resolved")
            )
            del new.incidents[incident.id]
            result.changed = True
    return result


def _is_stuck(record: DeploymentRecord, now: datetime, policy: LoopPolicy) -> bool:
    return bool(
        record.status == "IN_PROGRESS"
        and not record.stuck_reported
        and record.started_at
        and now - record.started_at > policy.stuck_deployment_after
    )


def _trim_settled(settled: dict[str, datetime], keep: int = 20) -> None:
    for key in sorted(settled, key=lambda k: settled[k])[: max(0, len(settled) - keep)]:
        del settled[key]
