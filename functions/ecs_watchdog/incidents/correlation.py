"""The correlated-failure guard: many services failing for one cause at once is one account incident.

An ECR outage, a broken NAT gateway or a disabled KMS key makes every service fail the same way;
rolling them all back would make things worse. So when K services open incidents of one category
within a window, the account gets one incident and automatic containment pauses until it clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy


class Opening(BaseModel):
    model_config = ConfigDict(extra="ignore")
    service: str
    category: str
    at: datetime


class AccountState(BaseModel):
    """One item per account and region (see docs/state.md)."""

    model_config = ConfigDict(extra="ignore")
    account: str
    revision: int = 0
    openings: list[Opening] = Field(default_factory=list)  # service incidents opened within the window
    # service incident id → the category it had when it opened: removed by id when it ends, so a
    # category that shifts while it runs cannot leave it counted forever.
    active: dict[str, str] = Field(default_factory=dict)
    incidents: dict[str, Incident] = Field(default_factory=dict)  # category → open correlated incident
    outbox: list[Transition] = Field(default_factory=list)  # account transitions not yet announced
    sequence: int = 0


@dataclass
class GuardResult:
    state: AccountState
    transitions: list[Transition] = field(default_factory=list)


def on_service_transition(account: AccountState, transition: Transition, policy: LoopPolicy) -> GuardResult:
    """Track a service incident's opening or end; open or resolve the account incidents it implies."""
    new = account.model_copy(deep=True)
    result = GuardResult(new)
    incident, at = transition.incident, transition.at
    if incident.kind is IncidentKind.CORRELATED:
        return result
    if transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED) and incident.category:
        new.active[incident.id] = incident.category
        new.openings.append(Opening(service=incident.service, category=incident.category, at=at))
    elif transition.kind in (TransitionKind.RESOLVED, TransitionKind.CLOSED):
        new.active.pop(incident.id, None)
    new.openings = [o for o in new.openings if at - o.at <= policy.correlation_window]

    category = new.active.get(incident.id) or incident.category
    recent = {o.service for o in new.openings if o.category == category}
    if category and category not in new.incidents and len(recent) >= policy.correlated_services:
        new.sequence += 1
        opened = Incident(
            id=f"account-{category}-{at:%Y%m%dT%H%M%SZ}-{new.sequence}",
            service=f"{new.account}/*",
            kind=IncidentKind.CORRELATED,
            category=category,
            opened_at=at,
            updated_at=at,
            failures=len(recent),
            categories={category: len(recent)},
            containment_eligible=False,
            reason=(
                f"{len(recent)} services opened {category} incidents within "
                f"{int(policy.correlation_window.total_seconds() // 60)} min: a shared cause is likely "
                f"({', '.join(sorted(recent))}). Automatic containment is paused until it clears."
            ),
        )
        new.incidents[category] = opened
        result.transitions.append(_transition(new, opened, TransitionKind.OPENED, at, opened.reason))
    for open_category, open_incident in list(new.incidents.items()):
        still = sum(1 for c in new.active.values() if c == open_category)
        if still < policy.correlated_services and transition.kind in (TransitionKind.RESOLVED, TransitionKind.CLOSED):
            open_incident.status, open_incident.resolved_at, open_incident.updated_at = (
                IncidentStatus.RESOLVED,
                at,
                at,
            )
            del new.incidents[open_category]
            result.transitions.append(
                _transition(
                    new,
                    open_incident,
                    TransitionKind.RESOLVED,
                    at,
                    f"fewer than {policy.correlated_services} services still failing",
                )
            )
    new.outbox += result.transitions
    return result


def acknowledge(account: AccountState, delivered: set[str]) -> AccountState:
    """Drop announced account transitions from the outbox."""
    return account.model_copy(update={"outbox": [t for t in account.outbox if t.id not in delivered]})


def containment_paused(account: AccountState | None, category: str | None) -> bool:
    """Whether automatic containment must wait: a correlated incident is open for this category."""
    return bool(account and category and category in account.incidents)


def _transition(account: AccountState, incident: Incident, kind: TransitionKind, at: datetime, why: str) -> Transition:
    account.sequence += 1
    return Transition(
        id=f"{incident.id}/{account.sequence}-{kind}",
        kind=kind,
        incident=incident.model_copy(deep=True),
        at=at,
        summary=why,
    )
