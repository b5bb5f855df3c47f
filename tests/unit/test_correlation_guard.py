"""The correlated-failure guard: K services failing for one cause within the window → one account incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.incidents.correlation import AccountState, containment_paused, on_service_transition
from ecs_watchdog.incidents.model import Incident, IncidentKind, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy

T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
POLICY = LoopPolicy()


def service_transition(n: int, kind: TransitionKind, minute: float, category: str = "network") -> Transition:
    incident = Incident(
        id=f"svc{n}-1",
        service=f"acct/us-east-1/prod/svc{n}",
        kind=IncidentKind.FAILING_DEPLOYMENT,
        category=category,
        opened_at=T0,
        updated_at=T0,
    )
    return Transition(
        id=f"svc{n}-1/{kind}", kind=kind, incident=incident, at=T0 + timedelta(minutes=minute), summary=""
    )


def run(transitions):
    account, produced = AccountState(account="acct/us-east-1"), []
    for transition in transitions:
        result = on_service_transition(account, transition, POLICY)
        account, produced = result.state, produced + result.transitions
    return account, produced


def test_five_services_failing_for_one_cause_within_ten_minutes_make_one_account_incident():
    account, produced = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)])
    (opened,) = produced
    assert (opened.kind, opened.incident.kind, opened.incident.category) == (
        TransitionKind.OPENED,
        IncidentKind.CORRELATED,
        "network",
    )
    assert containment_paused(account, "network") and not containment_paused(account, "image")
    _, more = run([service_transition(n, TransitionKind.OPENED, n) for n in range(7)])
    assert len(more) == 1  # one account incident, however many services join


def test_four_services_or_a_spread_over_more_than_the_window_make_none():
    assert run([service_transition(n, TransitionKind.OPENED, n) for n in range(4)])[1] == []
    assert run([service_transition(n, TransitionKind.OPENED, n * 4) for n in range(5)])[1] == []
    mixed = [service_transition(n, TransitionKind.OPENED, n, "image" if n % 2 else "network") for n in range(5)]
    assert run(mixed)[1] == []


def test_the_account_incident_clears_when_services_recover():
    opened = [service_transition(n, TransitionKind.OPENED, n) for n in range(5)]
    account, produced = run([*opened, service_transition(0, TransitionKind.RESOLVED, 20)])
    assert [t.kind for t in produced] == [TransitionKind.OPENED, TransitionKind.RESOLVED]
    assert not containment_paused(account, "network")


def test_a_service_whose_category_shifts_still_leaves_the_account_incident_when_it_resolves():
    opened = [service_transition(n, TransitionKind.OPENED, n) for n in range(5)]
    account, _ = run(opened)
    shifted = service_transition(0, TransitionKind.RESOLVED, 20, category="image")  # dominant category changed
    result = on_service_transition(account, shifted, POLICY)
    assert [t.kind for t in result.transitions] == [TransitionKind.RESOLVED]
    assert not containment_paused(result.state, "network") and "svc0-1" not in result.state.active


def test_account_transitions_wait_in_an_outbox_until_acknowledged():
    from ecs_watchdog.incidents.correlation import acknowledge

    account, produced = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)])
    assert [t.id for t in account.outbox] == [t.id for t in produced]
    assert acknowledge(account, {produced[0].id}).outbox == []
