"""Whether a proposal can still be approved. Pure: the proposal, the incident and the service now, and "now".

A proposal expires when its time is up, when the incident is no longer open, when the service changed
under it (a person deployed: another primary deployment or task definition, or another desired count),
or when a newer proposal replaced it. An expired button says so and does nothing.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.approvals.proposal import DrawnAgainst, Proposal
from ecs_watchdog.contain.models import ServiceView
from ecs_watchdog.incidents.model import Incident, IncidentStatus


def expired(
    proposal: Proposal, clicked: str, incident: Incident, view: ServiceView | None, now: datetime
) -> str | None:
    """Why the proposal `clicked` (its id, from the button) no longer holds, or None when it does.
    `proposal` is the incident's current one; `view` a fresh DescribeServices (None: not looked at yet)."""
    if proposal.id != clicked:
        return "a newer proposal replaced this one: use the buttons of the latest message"
    if incident.status is not IncidentStatus.OPEN:
        return f"the incident is {incident.status.value}: there is nothing left to approve"
    if now >= proposal.expires_at:
        return f"the proposal expired at {proposal.expires_at:%H:%M} UTC (watchdog:approval_minutes)"
    if view is not None:
        return changed_since(proposal.drawn_against, DrawnAgainst.of(view))
    return None


def changed_since(then: DrawnAgainst, now: DrawnAgainst) -> str | None:
    """What a person changed on the service since the proposal was drawn."""
    if now.task_definition != then.task_definition or now.primary_deployment != then.primary_deployment:
        return (
            f"the service changed since the proposal: it now deploys {_short(now.task_definition)} "
            f"(deployment {now.primary_deployment or 'unknown'}); someone deployed, the proposal no longer applies"
        )
    if now.desired_count != then.desired_count:
        return (
            f"the service's desired count changed from {then.desired_count} to {now.desired_count} since the "
            "proposal: someone scaled it, the proposal no longer applies"
        )
    return None


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
