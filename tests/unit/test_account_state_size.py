"""The account item stays small however many services fail together, and old items are still understood."""

from __future__ import annotations

from datetime import timedelta

import boto3
from botocore.stub import Stubber

from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.incidents.correlation import AccountState, decide
from ecs_watchdog.incidents.model import ServiceState, TransitionKind
from tests.unit.test_correlation_guard import POLICY, T0, run, service_transition

ITEM_BUDGET = 64 * 1024


def storm(services: int) -> tuple[AccountState, list[TransitionKind]]:
    """Every service opens, then resolves, then relapses (reopens): the worst moment is the relapse.
    Decided 100 transitions at a time (the guard's answer is the same as one by one; it is faster)."""
    transitions = [service_transition(n, TransitionKind.OPENED, n / services) for n in range(services)]
    transitions += [service_transition(n, TransitionKind.RESOLVED, 5, seq=2) for n in range(services)]
    transitions += [service_transition(n, TransitionKind.REOPENED, 6 + n / services, seq=3) for n in range(services)]
    account, produced = AccountState(account="acct/us-east-1"), []
    for start in range(0, len(transitions), 100):
        decision = decide(account, transitions[start : start + 100], POLICY)
        account, produced = decision.state, produced + decision.transitions
    return account, [t.kind for t in produced]


def test_two_thousand_services_failing_together_keep_the_account_item_under_64_kb():
    sizes = {}
    for services in (10, 2000):
        account, produced = storm(services)
        assert produced == [TransitionKind.OPENED, TransitionKind.RESOLVED, TransitionKind.REOPENED]
        sizes[services] = len(account.model_dump_json().encode())
    assert sizes[2000] < ITEM_BUDGET, sizes
    assert len(account.openings) == POLICY.correlated_services  # the latest K openings, not 2,000


def test_an_account_item_written_with_full_incident_ids_still_resolves():
    # An item from before digests (a deploy in progress): its members are named by their full ids.
    legacy = AccountState(account="acct/us-east-1")
    account, _, _ = run([service_transition(n, TransitionKind.OPENED, n) for n in range(5)], legacy)
    old = account.model_copy(
        update={
            "active": {f"svc{n}-1": "network" for n in range(5)},
            "covered": {f"svc{n}-1": "network" for n in range(5)},
        }
    )
    at = T0 + timedelta(minutes=6)
    for n in range(5):
        transition = service_transition(n, TransitionKind.RESOLVED, 6, seq=2).model_copy(update={"at": at})
        decision = decide(old, [transition], POLICY)
        old = decision.state
    assert old.active == {} and old.incidents["network"].status == "resolved"


def test_a_warm_container_answers_four_hundred_services_from_memory():
    # It used to keep 256 items, so a storm over more services read before every write. The Stubber
    # (the real botocore model) answers the puts and fails on any read the cache should have saved.
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StateTable(client, "state")
    keys = [f"acct/us-east-1/prod/svc{n}" for n in range(400)]
    with Stubber(client) as stubber:
        for _ in keys:
            stubber.add_response("put_item", {})
        for key in keys:
            table.save_service(ServiceState(service=key, seen_tasks={f"t{i}": 1 for i in range(200)}), T0)
        loaded = [table.load_service(key) for key in keys]
        stubber.assert_no_pending_responses()
    assert all(s is not None and s.revision == 1 for s in loaded)
    assert loaded[0] is not table.load_service(keys[0])  # each load is its own copy


def test_the_cache_forgets_the_oldest_items_beyond_its_budget():
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StateTable(client, "state", cache_bytes=20_000)
    with Stubber(client) as stubber:
        for n in range(10):
            stubber.add_response("put_item", {})
            table.save_service(ServiceState(service=f"a/r/c/svc{n}", seen_tasks={f"t{i}": 1 for i in range(200)}), T0)
    assert not table.is_cached("a/r/c/svc0") and table.is_cached("a/r/c/svc9")
