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
    service_last_rollback_to: str | None = None  # the revision that action rolled back to, if a rollback
    incident_acted: bool = False  # an action was already made (or attempted) for this incident
    correlated_pause: bool = False  # the correlated-failure guard holds for the incident's category
    kill_switch: bool = False  # the operator's kill switch is engaged
    # Task definitions with an open or contained incident of their own, or contained since last healthy
    # (ServiceState.failing_revisions): a rollback to one would ping-pong.
    failing_revisions: frozenset[str] = Field(default_factory=frozenset)


def already_acted(facts: GuardFacts) -> str | None:
    """One action per incident: a second one would fight the first."""
    return "containment already acted on this incident" if facts.incident_acted else None


def in_cooldown(facts: GuardFacts, policy: ContainmentPolicy, *, rolling_back_to: str | None = None) -> str | None:
    """A service gets at most one action per cooldown, whichever incident asked for it — except a rollback
    to the very revision the last action rolled back to: that revision is proven (the service runs it,
    healthy), and holding the rollback back only lets a redeployed failing revision fail for longer."""
    last = facts.service_last_action_at
    if last is None or facts.now - last >= policy.cooldown:
        return None
    if rolling_back_to is not None and rolling_back_to == facts.service_last_rollback_to:
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


def ping_pong(target: str, facts: GuardFacts) -> str | None:
    """Never roll back to a revision that is failing itself, or was contained and has not been healthy since
    (rolling back to the revision just contained is the ping-pong)."""
    if target in facts.failing_revisions:
        return f"{_short(target)} is failing itself (open or contained incident): rolling back to it would ping-pong"
    return None


def not_the_service_target(incident: Incident, view: ServiceView) -> str | None:
    """The service's primary deployment is another revision than the failing one: a person deployed another
    (the fix, perhaps), or ECS is already rolling back. Acting now would stop their deployment."""
    failing = incident.task_definition
    if failing and view.task_definition != failing:
        return (
            f"the service now deploys {_short(view.task_definition)}, not the failing {_short(failing)}: "
            "someone deployed another revision (or ECS is rolling back), and the watchdog does not stop it"
        )
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
