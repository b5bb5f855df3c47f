"""A new deployment whose revision failed its preflight: open the incident before any task fails. Pure.

A deterministic preflight fail (diagnose/preflight.py: an image never pushed, a log group that does not
exist, a secret that is gone, a placeholder) says every task of the revision will fail, so the incident
opens at the deployment's IN_PROGRESS, as a confirmed cause opens at the first failure, and containment
can act before the first task fails. A revision that has run healthy, or that a person put back, is
theirs to judge: the preflight only speaks for revisions with nothing better known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ecs_watchdog.incidents.contract import ACTIVE, Result
from ecs_watchdog.incidents.lifecycle import open_incident, record_transition
from ecs_watchdog.incidents.model import Explanation, IncidentKind, TransitionKind


@dataclass(frozen=True)
class PreflightFailure:
    """What the engine keeps of a failed preflight: the reason, the stop category it stands for, the checks."""

    reason: str
    category: str
    evidence: tuple[str, ...] = ()
    checks: tuple[dict[str, Any], ...] = ()  # name, status, summary, evidence, resource (shaped like probes)
    next_steps: Sequence[str] = ()


def open_on_preflight(
    result: Result, deployment_id: str, task_definition: str, at: datetime, failure: PreflightFailure
) -> Result:
    """`result` with an OPENED deterministic incident for the revision, unless one is active for it already
    or the revision has been healthy (or cleared by a person) since: then unchanged."""
    state = result.state
    if any(i.status in ACTIVE and i.task_definition == task_definition for i in state.incidents.values()):
        return result
    health = state.revisions.get(task_definition)
    if health is not None and (health.healthy_at is not None or health.cleared):
        return result
    incident = open_incident(
        state,
        IncidentKind.DETERMINISTIC,
        at,
        failure.reason,
        task_definition=task_definition,
        deployment_id=deployment_id,
    )
    incident.category = failure.category
    incident.containment_eligible = True  # a deterministic cause, proven before any task ran
    explanation = Explanation(
        evidence=list(failure.evidence), next_steps=list(failure.next_steps), probes=list(failure.checks)
    )
    result.transitions.append(
        record_transition(state, incident, TransitionKind.OPENED, at, failure.reason, explanation)
    )
    result.changed = True
    return result
