"""The guards that can hold containment back. Each returns why it holds, or None when it does not.

Pure: the caller gathers the facts (recent actions from the audit, the correlated-failure guard,
the kill switch) and passes "now".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from ecs_watchdog.contain.models import Action, ContainmentPolicy, ServiceView, _Frozen
from ecs_watchdog.incidents.model import Incident

HOUR = timedelta(hours=1)


class GuardFacts(_Frozen):
    """What the guards need to know besides the incident and the service."""

    now: datetime
    # Times of actions that changed a service (enforced, not dry-run) anywhere in the account.
    account_action_times: tuple[datetime, ...] = ()
    service_last_action_at: datetime | None = None  # the last such action on this service
    incident_acted: bool = False  # an action was already made (or attempted) for this incident
    correlated_pause: bool = False  # the correlated-failure guard holds for the incident's category
    kill_switch: bool = False  # the operator's kill switch is engaged
    # Task definitions with an open incident of their own (a rollback to one would ping-pong).
    revisions_with_open_incidents: frozenset[str] = Field(default_factory=frozenset)


def already_acted(facts: GuardFacts) -> str | None:
    """One action per incident: a second one would fight the first."""
    return "containment already acted on this incident" if facts.incident_acted else None


def in_cooldown(facts: GuardFacts, policy: ContainmentPolicy) -> str | None:
    """A service gets at most one action per cooldown, whichever incident asked for it."""
    last = facts.service_last_action_at
    if last is None or facts.now - last >= policy.cooldown:
        return None
    minutes = int(policy.cooldown.total_seconds() // 60)
    return f"the watchdog acted on this service at {last:%H:%M:%S}Z, within its {minutes}-minute cooldown"


def over_hourly_cap(facts: GuardFacts, policy: ContainmentPolicy) -> str | None:
    """At most `hourly_cap` actions in any 60 minutes across the account."""
    recent = sum(1 for at in facts.account_action_times if timedelta(0) <= facts.now - at < HOUR)
    if recent < policy.hourly_cap:
        return None
    return f"{recent} actions in the account in the last hour reach the cap of {policy.hourly_cap}"


def correlated_pause(facts: GuardFacts) -> str | None:
    """Many services failing for one cause: rolling them all back would make it worse."""
    if not facts.correlated_pause:
        return None
    return "many services are failing for the same cause at once: automatic containment is paused"


def ping_pong(
    target: str, facts: GuardFacts, *, last_known_good: str | None, lkg_has_open_incident: bool
) -> str | None:
    """Never roll back to a revision that has an open incident of its own."""
    if target in facts.revisions_with_open_incidents or (target == last_known_good and lkg_has_open_incident):
        return f"{_short(target)} has an open incident of its own: rolling back to it would ping-pong"
    return None


def changed_since_incident(incident: Incident, view: ServiceView) -> str | None:
    """A person got there first: the failing revision is gone from the service, or it was scaled to zero."""
    failing = incident.task_definition
    if failing and all(d.task_definition != failing for d in view.deployments) and view.task_definition != failing:
        return f"{_short(failing)} is no longer deployed: someone changed the service since the incident opened"
    if view.desired_count == 0:
        return "the service's desired count is already 0"
    return None


def changed_before_acting(action: Action, reread: ServiceView) -> str | None:
    """The service read again right before acting differs from the one the action was decided on."""
    if action.fingerprint and action.fingerprint != reread.fingerprint():
        return "the service changed between the decision and the action: a person got there first"
    return None


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
