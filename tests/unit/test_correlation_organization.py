"""The correlated-failure guard across the organization: K services of at least two accounts failing for
one cause within the window → one organization incident naming the accounts, which speaks for their
services and account incidents until none is failing anywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.incidents import correlation
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import (
    OrganizationState,
    accounts_line,
    containment_paused,
    decide,
)
from ecs_watchdog.incidents.model import Incident, IncidentKind, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy

T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
POLICY = LoopPolicy()  # K = 5 within 10 minutes
A, B, C = "111111111111", "222222222222", "333333333333"


def service_transition(
    account: str, n: int, kind: TransitionKind, minute: float, category: str = "image", seq: int = 1
) -> Transition:
    incident = Incident(
        id=f"svc{n}-1",  # as real ids: the same service name in two accounts, the same id
        service=f"{account}/us-east-1/prod/svc{n}",
        kind=IncidentKind.FAILING_DEPLOYMENT,
        category=category,
        opened_at=T0,
        updated_at=T0,
    )
    return Transition(
        id=f"{incident.id}/{seq}-{kind}", kind=kind, incident=incident, at=T0 + timedelta(minutes=minute), summary=""
    )


class Hub:
    """The hub's two levels as the pipeline runs them: each account's guard, then the organization's."""

    def __init__(self) -> None:
        self.accounts: dict[str, AccountState] = {}
        self.organization = OrganizationState(key="999999999999/us-east-1")
        self.produced: list[Transition] = []  # organization transitions
        self.announced: list[str] = []  # service and account transitions people hear about on their own

    def feed(self, *transitions: Transition) -> None:
        for transition in transitions:
            account = transition.incident.service.split("/")[0]
            state = self.accounts.get(account) or AccountState(account=f"{account}/us-east-1")
            by_account = correlation.decide(state, [transition], POLICY)
            self.accounts[account] = by_account.state
            across = decide(self.organization, [transition, *by_account.transitions], POLICY)
            self.organization = across.state
            self.produced += across.transitions
            self.announced += [
                t
                for t, yes in across.announce.items()
                if yes and by_account.announce.get(t, True)  # both guards let it through
            ]


def interleaved(accounts: list[str], per_account: int, kind: TransitionKind, minute: float) -> list[Transition]:
    return [service_transition(account, n, kind, minute + n / 10) for n in range(per_account) for account in accounts]


def test_five_services_of_two_accounts_neither_at_k_alone_make_one_organization_incident_naming_both():
    hub = Hub()
    hub.feed(*[service_transition(A, n, TransitionKind.OPENED, n / 10) for n in range(3)])
    hub.feed(*[service_transition(B, n, TransitionKind.OPENED, 1 + n / 10) for n in range(2)])
    (opened,) = hub.produced
    assert (opened.kind, opened.incident.kind, opened.incident.category) == (
        TransitionKind.OPENED,
        IncidentKind.CORRELATED,
        "image",
    )
    assert opened.incident.accounts == {A: 3, B: 2}
    assert opened.summary.startswith(f"5 services in 2 accounts failing with image: accounts {A} (3), {B} (2).")
    assert len(hub.announced) == 4  # the fifth is what the organization incident announces
    assert all(a.incidents == {} for a in hub.accounts.values())  # no account reached K alone
    assert containment_paused(hub.organization, "image") and not containment_paused(hub.organization, "network")


def test_one_account_alone_at_k_is_its_account_incident_and_the_organization_stays_quiet():
    hub = Hub()
    hub.feed(*[service_transition(A, n, TransitionKind.OPENED, n / 10) for n in range(7)])
    assert hub.produced == []
    assert [i.kind for i in hub.accounts[A].incidents.values()] == [IncidentKind.CORRELATED]
    # 4 services, then the account incident: per-account correlation as in a single stack.
    assert len(hub.announced) == 5 and hub.announced[-1].startswith("account-image-")


def test_four_services_across_accounts_or_a_spread_over_more_than_the_window_make_none():
    hub = Hub()
    hub.feed(*interleaved([A, B], 2, TransitionKind.OPENED, 0))
    assert hub.produced == [] and len(hub.announced) == 4
    spread = Hub()
    spread.feed(*[service_transition((A, B)[n % 2], n, TransitionKind.OPENED, n * 4) for n in range(5)])
    assert spread.produced == []


def test_an_account_incident_that_opens_under_the_organization_incident_is_not_announced():
    hub = Hub()
    hub.feed(*interleaved([A, B], 3, TransitionKind.OPENED, 0))  # organization opens at the fifth
    hub.feed(*[service_transition(A, n, TransitionKind.OPENED, 2 + n / 10) for n in range(3, 6)])
    assert [i.kind for i in hub.accounts[A].incidents.values()] == [IncidentKind.CORRELATED]  # A reached 5
    assert not any(t.startswith("account-") for t in hub.announced)
    assert [t.kind for t in hub.produced] == [TransitionKind.OPENED]
    assert hub.organization.incidents["image"].accounts == {A: 6, B: 3}


def test_it_resolves_only_when_every_accounts_services_are_resolved_and_a_relapse_reopens_it():
    hub = Hub()
    hub.feed(*interleaved([A, B, C], 3, TransitionKind.OPENED, 0))
    hub.feed(*[service_transition(a, n, TransitionKind.RESOLVED, 5) for a in (A, B) for n in range(3)])
    assert [t.kind for t in hub.produced] == [TransitionKind.OPENED]  # C's are still failing
    assert containment_paused(hub.organization, "image")
    hub.feed(*[service_transition(C, n, TransitionKind.RESOLVED, 6) for n in range(3)])
    assert [t.kind for t in hub.produced] == [TransitionKind.OPENED, TransitionKind.RESOLVED]
    assert hub.produced[-1].summary.startswith("all 9 services it covered in 3 accounts recovered")
    assert not containment_paused(hub.organization, "image")
    announced = len(hub.announced)
    hub.feed(*[service_transition(B, n, TransitionKind.REOPENED, 8, seq=3) for n in range(3)])
    assert [t.kind for t in hub.produced][-1] is TransitionKind.REOPENED
    assert f"in account {B} first" in hub.produced[-1].summary
    assert len(hub.announced) == announced  # covered incidents say nothing on their own
    assert containment_paused(hub.organization, "image")


def test_deciding_twice_for_the_same_transitions_changes_nothing_more():
    hub = Hub()
    transitions = interleaved([A, B], 3, TransitionKind.OPENED, 0)
    hub.feed(*transitions)
    again = decide(hub.organization, transitions, POLICY)
    assert again.transitions == [] and not again.changed
    assert all(yes is False for yes in list(again.announce.values())[4:])


def test_the_item_stays_bounded_however_many_services_and_accounts_fail():
    accounts = [f"{n:012d}" for n in range(1, 21)]
    hub = Hub()
    hub.feed(*interleaved(accounts, 100, TransitionKind.OPENED, 0))
    organization = hub.organization
    assert organization.incidents["image"].failures == 2000
    assert len(organization.openings) <= 2 * POLICY.correlated_services
    assert len(organization.model_dump_json()) < 64 * 1024
    assert len(organization.applied) <= correlation.MAX_APPLIED


def test_the_message_names_at_most_ten_accounts_and_counts_the_rest():
    line = accounts_line({f"{n:012d}": n for n in range(1, 14)})
    assert line.startswith("accounts 000000000013 (13), 000000000012 (12)")
    assert line.endswith("and 3 more") and "000000000001" not in line


def test_its_message_says_where_it_is_by_region_and_accounts_and_lists_them_in_the_facts():
    from ecs_watchdog.announce import content
    from ecs_watchdog.incidents.service_ref import ServiceRef

    hub = Hub()
    hub.feed(*interleaved([A, B, C], 2, TransitionKind.OPENED, 0))
    (opened,) = hub.produced
    where = ServiceRef(account="999999999999", region="us-east-1", cluster="*", name="*")
    assert content.headline(opened, where) == "OPENED us-east-1, 3 accounts: Many services failing at once (image)"
    assert ("Accounts", f"{A} (2), {B} (2), {C} (1)") in content.facts(opened)
