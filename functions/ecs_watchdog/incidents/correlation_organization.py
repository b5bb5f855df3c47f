"""The correlated-failure guard across the organization: one cause failing services in many accounts
at once is one organization incident (organization mode, the hub).

A bad base image or a shared dependency failing services in 30 accounts is one incident, not 30. So
when K services of at least two accounts open incidents of one category within the window, the hub
gets one organization incident naming the accounts (and how many services failed in each),
automatic containment pauses for that category in all of them, and what it covers is not announced
one by one: the service incidents of the category (as the account guard covers its own), and the
account incidents of the accounts it names (incidents/correlation.py keeps deciding them per
account; here only whether people hear about them). One account alone reaching K is the account
guard's: per-account correlation works as in a single stack.

The same rules as the account guard otherwise: it resolves only when no service incident of the
category is still active in any account, stays reopenable for one window, a covered incident that
reopens reopens it; deciding is pure and idempotent per transition (`applied`). The item stays
bounded (docs/state.md): members packed 8 characters each per category and account, the latest K
openings of a category and the latest opening of its latest K accounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.incidents import member_set
from ecs_watchdog.incidents.correlation import MAX_APPLIED, MAX_COVERED, Opening
from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy

MIN_ACCOUNTS = 2  # one account alone is the account guard's incident
NAMED_ACCOUNTS = 10  # accounts a message names one by one; the rest are counted


class OrganizationState(BaseModel):
    """One item per hub and region (see docs/state.md)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    key: str  # the hub's account/region
    revision: int = 0
    openings: list[Opening] = Field(default_factory=list)  # `service`: the full key, account first
    # category → account → the service incidents (packed) counted under the category they opened with
    members: dict[str, dict[str, str]] = Field(default_factory=dict)
    # category → its organization incident: open, or resolved and kept for one window
    incidents: dict[str, Incident] = Field(default_factory=dict)
    covering: dict[str, dict[str, str]] = Field(default_factory=dict)  # category → account → covered (packed)
    applied: dict[str, bool] = Field(default_factory=dict)  # transition digest → announce it on its own?
    outbox: list[Transition] = Field(default_factory=list)  # organization transitions not yet announced
    sequence: int = 0


@dataclass
class OrganizationDecision:
    """The guard's answer: the new state, whether each service or account transition is announced on
    its own, and the organization transitions it caused."""

    state: OrganizationState
    announce: dict[str, bool] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    changed: bool = False


def decide(organization: OrganizationState, transitions: list[Transition], policy: LoopPolicy) -> OrganizationDecision:
    """Apply service transitions, then account transitions (each at most once) and say which are
    announced on their own. Account transitions go last: the services that caused them are counted first."""
    new = organization.model_copy(deep=True)
    decision = OrganizationDecision(new)
    ordered = sorted(transitions, key=lambda t: t.incident.kind is IncidentKind.CORRELATED)
    for transition in ordered:
        known = new.applied.get(_remembered(transition))
        if known is not None:
            decision.announce[transition.id] = known
            continue
        _retire(new, transition.at, policy)
        if transition.incident.kind is IncidentKind.CORRELATED:
            announce = not covers_account(new, transition.incident.category, account_of(transition.incident))
        else:
            announce = _apply(new, decision, transition, policy)
        decision.announce[transition.id] = announce
        new.applied[_remembered(transition)] = announce
        for key in list(new.applied)[: max(0, len(new.applied) - MAX_APPLIED)]:
            del new.applied[key]
        decision.changed = True
    new.outbox += decision.transitions
    return decision


def acknowledge(organization: OrganizationState, delivered: set[str]) -> OrganizationState:
    """Drop announced organization transitions from the outbox."""
    return organization.model_copy(update={"outbox": [t for t in organization.outbox if t.id not in delivered]})


def containment_paused(organization: OrganizationState | None, category: str | None) -> bool:
    """Whether automatic containment must wait in every account: an organization incident is open."""
    if not (organization and category and category in organization.incidents):
        return False
    return organization.incidents[category].status is IncidentStatus.OPEN


def paused_categories(organization: OrganizationState | None) -> frozenset[str]:
    return frozenset(c for c in (organization.incidents if organization else {}) if containment_paused(organization, c))


def covers_account(organization: OrganizationState, category: str | None, account: str) -> bool:
    """Whether the organization incident of `category` speaks for this account's incidents."""
    incident = organization.incidents.get(category or "")
    if incident is None:
        return False
    return incident.status is IncidentStatus.OPEN or bool(
        organization.covering.get(incident.category or "", {}).get(account)
    )


def _remembered(transition: Transition) -> str:
    """A transition's digest here. Incident ids are unique within a service, not across accounts (two
    accounts' `api` failing in the same second share one): the service key makes them distinct."""
    return member_set.digest(f"{transition.incident.service}#{transition.id}")


def account_of(incident: Incident) -> str:
    """The account of a service key (account/region/cluster/service) or an account scope (account/region/*)."""
    return incident.service.split("/", 1)[0]


def _apply(new: OrganizationState, decision: OrganizationDecision, transition: Transition, policy: LoopPolicy) -> bool:
    incident, at = transition.incident, transition.at
    account, member = account_of(incident), member_set.digest(f"{incident.service}#{incident.id}")
    covering = _category_of(new.covering, account, member)
    if transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED) and incident.category:
        category = covering or incident.category
        _remove(new.members, account, member)
        _add(new.members, category, account, member)
        new.openings = [
            o
            for o in new.openings
            if at - o.at <= policy.correlation_window and (o.service, o.category) != (incident.service, category)
        ]
        new.openings.append(Opening(service=incident.service, category=category, at=at))
        new.openings = _bounded(new.openings, policy.correlated_services)
        recent = {o.service for o in new.openings if o.category == category}
        accounts = {s.split("/", 1)[0] for s in recent}
        tripped = len(recent) >= policy.correlated_services and len(accounts) >= MIN_ACCOUNTS
        existing = new.incidents.get(category)
        if existing is not None and existing.status is IncidentStatus.OPEN:
            _cover(new, existing, account, member, category)
            return False
        if existing is not None and (covering or tripped):
            _reopen(new, decision, existing, at, incident.service)
            _cover(new, existing, account, member, category)
            return False
        if existing is None and tripped:
            opened = _open(new, category, at)
            for other_account, packed in new.members.get(category, {}).items():
                for other in member_set.members(packed):
                    _cover(new, opened, other_account, other, category)
            opened.reason = _opened_reason(new, opened, len(recent), policy)
            decision.transitions.append(_transition(new, opened, TransitionKind.OPENED, at, opened.reason))
            return False
        return covering is None
    if transition.kind in (TransitionKind.RESOLVED, TransitionKind.CLOSED):
        ended = _remove(new.members, account, member) or covering
        if transition.kind is TransitionKind.CLOSED:
            _remove(new.covering, account, member)
        organization_incident = new.incidents.get(ended) if ended else None
        if (
            organization_incident is not None
            and organization_incident.status is IncidentStatus.OPEN
            and not (ended and new.members.get(ended))
        ):
            organization_incident.status = IncidentStatus.RESOLVED
            organization_incident.resolved_at = organization_incident.updated_at = at
            why = (
                f"all {organization_incident.failures} services it covered in {len(organization_incident.accounts)} "
                "accounts recovered; automatic containment resumes"
            )
            decision.transitions.append(_transition(new, organization_incident, TransitionKind.RESOLVED, at, why))
        return covering is None
    return covering is None  # CONTAINED: announced unless the guard covers the incident


def _open(new: OrganizationState, category: str, at: datetime) -> Incident:
    new.sequence += 1
    opened = Incident(
        id=f"organization-{category}-{at:%Y%m%dT%H%M%SZ}-{new.sequence}",
        service=f"{new.key}/*",
        kind=IncidentKind.CORRELATED,
        category=category,
        opened_at=at,
        updated_at=at,
        containment_eligible=False,
    )
    new.incidents[category] = opened
    return opened


def _opened_reason(new: OrganizationState, opened: Incident, recent: int, policy: LoopPolicy) -> str:
    minutes = int(policy.correlation_window.total_seconds() // 60)
    return (
        f"{opened.failures} services in {len(opened.accounts)} accounts failing with {opened.category}: "
        f"{accounts_line(opened.accounts)}. {recent} of them opened within {minutes} min: a shared cause is "
        f"likely. Automatic containment is paused for {opened.category} in these accounts, and their services "
        "are reported here instead of one by one, until none of them is failing."
    )


def accounts_line(accounts: dict[str, int]) -> str:
    """`accounts 111122223333 (12), 222233334444 (8)`, most services first; the tail counted."""
    ranked = sorted(accounts.items(), key=lambda item: (-item[1], item[0]))
    named = ", ".join(f"{account} ({count})" for account, count in ranked[:NAMED_ACCOUNTS])
    rest = len(ranked) - NAMED_ACCOUNTS
    return f"accounts {named}" + (f" and {rest} more" if rest > 0 else "")


def _reopen(
    new: OrganizationState, decision: OrganizationDecision, incident: Incident, at: datetime, service: str
) -> None:
    incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.OPEN, None, at
    account, name = service.split("/", 1)[0], "/".join(service.split("/")[-2:])
    why = f"failures resumed ({name} in account {account} first); automatic containment is paused again"
    decision.transitions.append(_transition(new, incident, TransitionKind.REOPENED, at, why))


def _cover(new: OrganizationState, incident: Incident, account: str, member: str, category: str) -> None:
    if _category_of(new.covering, account, member) is None:
        incident.failures += 1
        incident.accounts[account] = incident.accounts.get(account, 0) + 1
        _add(new.covering, category, account, member)
        by_account = new.covering[category]
        by_account[account] = member_set.keep_last(by_account[account], MAX_COVERED)


def _retire(new: OrganizationState, now: datetime, policy: LoopPolicy) -> None:
    """Forget organization incidents resolved for longer than a window, and the coverage that ended with them."""
    for category, incident in list(new.incidents.items()):
        if incident.resolved_at is not None and now - incident.resolved_at > policy.correlation_window:
            del new.incidents[category]
            covered = new.covering.pop(category, {})
            for account, packed in covered.items():
                active = {m for by in new.members.values() for m in member_set.members(by.get(account, ""))}
                still = "".join(m for m in member_set.members(packed) if m in active)
                if still:
                    new.covering.setdefault(category, {})[account] = still


def _category_of(packed: dict[str, dict[str, str]], account: str, member: str) -> str | None:
    return next((c for c, by in packed.items() if member_set.has(by.get(account, ""), member)), None)


def _add(packed: dict[str, dict[str, str]], category: str, account: str, member: str) -> None:
    by_account = packed.setdefault(category, {})
    by_account[account] = member_set.add(by_account.get(account, ""), member)


def _remove(packed: dict[str, dict[str, str]], account: str, member: str) -> str | None:
    """Remove the member; the category it was under, if any."""
    category = _category_of(packed, account, member)
    if category is not None:
        by_account = packed[category]
        by_account[account] = member_set.remove(by_account[account], member)
        if not by_account[account]:
            del by_account[account]
        if not by_account:
            del packed[category]
    return category


def _bounded(openings: list[Opening], keep: int) -> list[Opening]:
    """Per category, the latest `keep` openings and the latest opening of each of its latest `keep`
    accounts: enough to tell K services in at least two accounts, however many failed in one."""
    keep = max(1, keep)
    kept: list[Opening] = []
    for category in dict.fromkeys(o.category for o in openings):
        mine = sorted((o for o in openings if o.category == category), key=lambda o: o.at)
        latest_by_account = {o.service.split("/", 1)[0]: o for o in mine}
        chosen = {id(o) for o in mine[-keep:]}
        chosen |= {id(o) for o in sorted(latest_by_account.values(), key=lambda o: o.at)[-keep:]}
        kept += [o for o in mine if id(o) in chosen]
    return sorted(kept, key=lambda o: o.at)


def _transition(
    organization: OrganizationState, incident: Incident, kind: TransitionKind, at: datetime, why: str
) -> Transition:
    organization.sequence += 1
    return Transition(
        id=f"{incident.id}/{organization.sequence}-{kind}",
        kind=kind,
        incident=incident.model_copy(deep=True),
        at=at,
        summary=why,
    )
