"""The correlated-failure guard: many services failing for one cause at once is one account incident.

An ECR outage, a broken NAT gateway or a disabled KMS key makes every service fail the same way;
rolling them all back would make things worse, and 200 messages tell people less than one. So when K
services open incidents of one category within a window, the account gets one incident, automatic
containment pauses for that category, and the service incidents it covers are not announced one by one:

- opened: every active service incident of the category is covered, and so is any that opens while it
  is open;
- resolved: only when no service incident of the category is still active (none is left failing
  unannounced); kept for one window after that, so a relapse REOPENS it instead of flapping;
- a covered service incident never announces anything on its own (its OPENED was never sent, so
  neither is its RESOLVED or REOPENED); a covered incident that reopens reopens the account incident.

Deciding is pure and idempotent per service transition (`applied`), so an invocation that lost a race
or died half-way can run it again for the same transitions.

The item stays small however large the fleet (docs/state.md, "Size of the account item"): the service
incidents it counts and covers are packed 8 characters each per category (`member_set.py`),
transitions are remembered by the same digest, and only the latest K openings of a category are kept
(K of them within the window is all the guard asks). An item written before that is converted when read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.incidents import member_set
from ecs_watchdog.incidents.infrastructure import ClusterInfrastructure
from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy

MAX_APPLIED = 300  # service transitions remembered for idempotency: far more than are ever in flight at once
MAX_COVERED = 4000  # covered service incidents remembered per category (8 bytes each)


class Opening(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    service: str
    category: str
    at: datetime


class AccountState(BaseModel):
    """One item per account and region (see docs/state.md)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    account: str
    revision: int = 0
    openings: list[Opening] = Field(default_factory=list)  # service incidents opened within the window
    # category → the service incidents (packed digests) counted under the category they had when they
    # opened: removed when they end, so a category that shifts while one runs cannot leave it counted.
    members: dict[str, str] = Field(default_factory=dict)
    # category → its account incident: open, or resolved and kept for one window (a relapse reopens it)
    incidents: dict[str, Incident] = Field(default_factory=dict)
    covering: dict[str, str] = Field(default_factory=dict)  # category → the service incidents it covers (packed)
    applied: dict[str, bool] = Field(default_factory=dict)  # service transition digest → announce it on its own?
    # Items written before packing: service incident id → category; converted on the next decision.
    active: dict[str, str] = Field(default_factory=dict)
    covered: dict[str, str] = Field(default_factory=dict)
    outbox: list[Transition] = Field(default_factory=list)  # account transitions not yet announced
    sequence: int = 0
    action_times: list[datetime] = Field(default_factory=list)  # containment actions in the last hour
    # cluster name → its platform memory and infrastructure incident (incidents/infrastructure.py)
    clusters: dict[str, ClusterInfrastructure] = Field(default_factory=dict)
    # Organization mode: categories the organization incident pauses containment for (never stored; the
    # pipeline sets it from the hub's organization item before containment decides).
    held_by_organization: frozenset[str] = Field(default_factory=frozenset, exclude=True)


@dataclass
class AccountDecision:
    """The guard's answer for some service transitions: the new account state, whether each service
    transition is announced on its own, and the account transitions it caused."""

    state: AccountState
    announce: dict[str, bool] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    changed: bool = False


def decide(account: AccountState, service_transitions: list[Transition], policy: LoopPolicy) -> AccountDecision:
    """Apply service transitions to the account (each at most once) and say which are announced."""
    new = account.model_copy(deep=True)
    _convert(new)
    decision = AccountDecision(new)
    for transition in service_transitions:
        known = new.applied.get(member_set.digest(transition.id))
        if known is not None:
            decision.announce[transition.id] = known
            continue
        _retire(new, transition.at, policy)
        announce = _apply(new, decision, transition, policy)
        decision.announce[transition.id] = announce
        new.applied[member_set.digest(transition.id)] = announce
        _trim(new.applied, MAX_APPLIED)
        decision.changed = True
    new.outbox += decision.transitions
    return decision


def acknowledge(account: AccountState, delivered: set[str]) -> AccountState:
    """Drop announced account transitions from the outbox."""
    return account.model_copy(update={"outbox": [t for t in account.outbox if t.id not in delivered]})


def containment_paused(account: AccountState | None, category: str | None) -> bool:
    """Whether automatic containment must wait: a correlated incident is open for this category, in
    the account or across the organization."""
    if account and category and category in account.held_by_organization:
        return True
    if not (account and category and category in account.incidents):
        return False
    return account.incidents[category].status is IncidentStatus.OPEN


def _apply(new: AccountState, decision: AccountDecision, transition: Transition, policy: LoopPolicy) -> bool:
    incident, at = transition.incident, transition.at
    if incident.kind is IncidentKind.CORRELATED:
        return True
    member = member_set.digest(incident.id)
    covering = _category_of(new.covering, member)
    if transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED) and incident.category:
        category = covering or incident.category
        _remove(new.members, member)
        _add(new.members, category, member)
        # One opening per service and category (the latest), and the latest K of a category: the
        # guard asks whether K services opened within the window, and the item stays small however
        # long a storm lasts and however many services are in it.
        new.openings = [
            o
            for o in new.openings
            if at - o.at <= policy.correlation_window and (o.service, o.category) != (incident.service, category)
        ]
        new.openings.append(Opening(service=incident.service, category=category, at=at))
        new.openings = _latest_per_category(new.openings, policy.correlated_services)
        recent = sorted({o.service for o in new.openings if o.category == category})
        existing = new.incidents.get(category)
        if existing is not None and existing.status is IncidentStatus.OPEN:
            _cover(new, existing, member, category)
            return False
        if existing is not None and (covering or len(recent) >= policy.correlated_services):
            _reopen(new, decision, existing, at, incident.service)
            _cover(new, existing, member, category)
            return False
        if existing is None and len(recent) >= policy.correlated_services:
            opened = _open(new, decision, category, at, recent, policy)
            for other in member_set.members(new.members.get(category, "")):
                _cover(new, opened, other, category)
            return False
        return covering is None
    if transition.kind in (TransitionKind.RESOLVED, TransitionKind.CLOSED):
        ended: str | None = _remove(new.members, member) or covering
        if transition.kind is TransitionKind.CLOSED:
            _remove(new.covering, member)
        account_incident = new.incidents.get(ended) if ended else None
        if (
            account_incident is not None
            and account_incident.status is IncidentStatus.OPEN
            and not (ended and new.members.get(ended))
        ):
            account_incident.status, account_incident.resolved_at, account_incident.updated_at = (
                IncidentStatus.RESOLVED,
                at,
                at,
            )
            decision.transitions.append(
                _transition(
                    new,
                    account_incident,
                    TransitionKind.RESOLVED,
                    at,
                    f"all {account_incident.failures} services it covered recovered; automatic containment resumes",
                )
            )
        return covering is None
    return covering is None  # CONTAINED: announced unless the guard covers the incident


def _open(
    new: AccountState, decision: AccountDecision, category: str, at: datetime, services: list[str], policy: LoopPolicy
) -> Incident:
    new.sequence += 1
    opened = Incident(
        id=f"account-{category}-{at:%Y%m%dT%H%M%SZ}-{new.sequence}",
        service=f"{new.account}/*",
        kind=IncidentKind.CORRELATED,
        category=category,
        opened_at=at,
        updated_at=at,
        failures=0,
        categories={category: len(services)},
        containment_eligible=False,
        reason=(
            f"{len(services)} services opened {category} incidents within "
            f"{int(policy.correlation_window.total_seconds() // 60)} min: a shared cause is likely "
            f"({', '.join(_names(services))}). Automatic containment is paused, and these services are "
            "reported here instead of one by one, until none of them is failing."
        ),
    )
    new.incidents[category] = opened
    decision.transitions.append(_transition(new, opened, TransitionKind.OPENED, at, opened.reason))
    return opened


def _reopen(new: AccountState, decision: AccountDecision, incident: Incident, at: datetime, service: str) -> None:
    incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.OPEN, None, at
    decision.transitions.append(
        _transition(
            new,
            incident,
            TransitionKind.REOPENED,
            at,
            f"failures resumed ({_names([service])[0]} first); automatic containment is paused again",
        )
    )


def _cover(new: AccountState, incident: Incident, member: str, category: str) -> None:
    if _category_of(new.covering, member) is None:
        incident.failures += 1
        _add(new.covering, category, member)
        new.covering[category] = member_set.keep_last(new.covering[category], MAX_COVERED)


def _retire(new: AccountState, now: datetime, policy: LoopPolicy) -> None:
    """Forget account incidents resolved for longer than a window, and the coverage that ended with them."""
    for category, incident in list(new.incidents.items()):
        if incident.resolved_at is not None and now - incident.resolved_at > policy.correlation_window:
            del new.incidents[category]
            active = {m for packed in new.members.values() for m in member_set.members(packed)}
            still = "".join(m for m in member_set.members(new.covering.pop(category, "")) if m in active)
            if still:
                new.covering[category] = still


def _category_of(packed: dict[str, str], member: str) -> str | None:
    return next((category for category, ids in packed.items() if member_set.has(ids, member)), None)


def _add(packed: dict[str, str], category: str, member: str) -> None:
    packed[category] = member_set.add(packed.get(category, ""), member)


def _remove(packed: dict[str, str], member: str) -> str | None:
    """Remove the member; the category it was under, if any."""
    category = _category_of(packed, member)
    if category is not None:
        packed[category] = member_set.remove(packed[category], member)
        if not packed[category]:
            del packed[category]
    return category


def _convert(new: AccountState) -> None:
    """An item written before packing: its members named by full ids, its transitions too."""
    for identifier, category in new.active.items():
        _add(new.members, category, member_set.digest(identifier))
    for identifier, category in new.covered.items():
        _add(new.covering, category, member_set.digest(identifier))
    new.active, new.covered = {}, {}
    new.applied = {k if len(k) == member_set.WIDTH else member_set.digest(k): v for k, v in new.applied.items()}


def _latest_per_category(openings: list[Opening], keep: int) -> list[Opening]:
    kept: list[Opening] = []
    for category in dict.fromkeys(o.category for o in openings):
        kept += sorted((o for o in openings if o.category == category), key=lambda o: o.at)[-max(1, keep) :]
    return sorted(kept, key=lambda o: o.at)


def _names(services: list[str]) -> list[str]:
    """Services as operators name them (cluster/service), from state keys account/region/cluster/service."""
    return ["/".join(s.split("/")[-2:]) for s in services]


def _trim(values: dict[str, bool] | dict[str, str], limit: int) -> None:
    for key in list(values)[: max(0, len(values) - limit)]:
        del values[key]


def _transition(account: AccountState, incident: Incident, kind: TransitionKind, at: datetime, why: str) -> Transition:
    account.sequence += 1
    return Transition(
        id=f"{incident.id}/{account.sequence}-{kind}",
        kind=kind,
        incident=incident.model_copy(deep=True),
        at=at,
        summary=why,
    )
