"""The correlated-failure guard: K services failing for one cause within the window → one account incident,
which speaks for all of them until none is failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.incidents.correlation import AccountState, acknowledge, containment_paused, decide
from ecs_watchdog.incidents.model import Incident, IncidentKind, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy

T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
POLICY = LoopPolicy()


def service_transition(
    n: int, kind: TransitionKind, minute: float, category: str = "network", seq: int = 1
) -> Transition:
    incident = Incident(
        id=f"svc{n}-1",
        service=f"acct/us-east-1/prod/svc{n}",
        kind=IncidentKind.FAILING_DEPLOYMENT,
        category=category,
        opened_at=T0,
        updated_at=T0,
    )
    return Transition(
        id=f"svc{n}-1/{seq}-{kind}", kind=kind, incident=incident, at=T0 + timedelta(minutes=minute), summary=""
    )


def run(transitions, account=None):
    """Feed transitions one decision at a time (as separate events would); collect what is announced."""
    account = account or AccountState(account="acct/us-east-1")
    produced: list[Transition] = []
    announced: list[str] = []
    for transition in transitions:
        decision = decide(account, [transition], POLICY)
        account, produced = decision.state, produced + decision.transitions
        announced += [t for t, yes in decision.announce.items() if yes]
    return account, produced, announced


def test_five_services_failing_for_one_cause_within_ten_minutes_make_one_account_incident():
    account, produced, announced = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)])
    (opened,) = produced
    assert (opened.kind, opened.incident.kind, opened.incident.category) == (
        TransitionKind.OPENED,
        IncidentKind.CORRELATED,
        "network",
    )
    assert len(announced) == 4  # the fifth is what the account incident announces
    assert containment_paused(account, "network") and not containment_paused(account, "image")
    _, more, announced = run([service_transition(n, TransitionKind.OPENED, n) for n in range(7)])
    assert len(more) == 1 and len(announced) == 4  # one account incident, however many services join


def test_four_services_or_a_spread_over_more_than_the_window_make_none():
    assert run([service_transition(n, TransitionKind.OPENED, n) for n in range(4)])[1] == []
    assert run([service_transition(n, TransitionKind.OPENED, n * 4) for n in range(5)])[1] == []
    mixed = [service_transition(n, TransitionKind.OPENED, n, "image" if n % 2 else "network") for n in range(5)]
    assert run(mixed)[1] == []


def test_the_account_incident_resolves_only_when_no_service_it_covers_is_still_failing():
    opened = [service_transition(n, TransitionKind.OPENED, n) for n in range(5)]
    account, produced, _ = run([*opened, service_transition(0, TransitionKind.RESOLVED, 20)])
    assert [t.kind for t in produced] == [TransitionKind.OPENED]  # four are still failing
    assert containment_paused(account, "network")
    resolved = [service_transition(n, TransitionKind.RESOLVED, 21) for n in range(1, 5)]
    account, more, announced = run(resolved, account)
    assert [t.kind for t in more] == [TransitionKind.RESOLVED]
    assert announced == []  # covered incidents do not announce their own resolution
    assert not containment_paused(account, "network")


def test_a_service_whose_category_shifts_still_leaves_the_account_incident_when_it_resolves():
    account, _, _ = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)])
    shifted = [service_transition(n, TransitionKind.RESOLVED, 20, category="image") for n in range(5)]
    account, produced, _ = run(shifted, account)
    assert [t.kind for t in produced] == [TransitionKind.RESOLVED]
    assert not containment_paused(account, "network") and account.active == {}


def test_two_hundred_services_that_fail_recover_and_relapse_together_make_three_account_messages():
    services = range(200)
    fail = [service_transition(n, TransitionKind.OPENED, n / 100) for n in services]
    recover = [service_transition(n, TransitionKind.RESOLVED, 5 + n / 100) for n in services]
    relapse = [service_transition(n, TransitionKind.REOPENED, 7 + n / 100, seq=3) for n in services]
    _, produced, announced = run([*fail, *recover, *relapse])
    assert [t.kind for t in produced] == [TransitionKind.OPENED, TransitionKind.RESOLVED, TransitionKind.REOPENED]
    assert len(announced) == 4  # only the openings before the guard tripped went out on their own
    assert "svc199" not in " ".join(announced)


def test_deciding_the_same_transition_twice_changes_nothing_and_gives_the_same_answer():
    account, _, _ = run([service_transition(n, TransitionKind.OPENED, n) for n in range(6)])
    again = decide(account, [service_transition(5, TransitionKind.OPENED, 5)], POLICY)
    assert not again.changed and again.transitions == [] and again.announce == {"svc5-1/1-opened": False}


def test_a_resolved_account_incident_is_forgotten_after_a_window_and_a_new_storm_opens_a_new_one():
    account, _, _ = run(
        [
            *(service_transition(n, TransitionKind.OPENED, n) for n in range(5)),
            *(service_transition(n, TransitionKind.RESOLVED, 6) for n in range(5)),
            *(service_transition(n, TransitionKind.CLOSED, 30) for n in range(5)),
        ]
    )
    assert account.incidents == {} and account.covered == {}
    _, produced, _ = run([service_transition(n + 10, TransitionKind.OPENED, 40 + n) for n in range(5)], account)
    assert [t.kind for t in produced] == [TransitionKind.OPENED]


def test_account_transitions_wait_in_an_outbox_until_acknowledged():
    account, produced, _ = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)])
    assert [t.id for t in account.outbox] == [t.id for t in produced]
    assert acknowledge(account, {produced[0].id}).outbox == []
