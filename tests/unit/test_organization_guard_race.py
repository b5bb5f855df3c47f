"""The organization item under two accounts' pipelines at once (two Lambda containers over one store):
the write is conditional, the loser reads again and decides again, and the organization incident opens
and is announced once."""

from __future__ import annotations

import json
from typing import Any

from ecs_watchdog.incidents.model import TransitionKind
from tests.fakes import MemoryStore, RecordingChannel, process, watchdog
from tests.integration.incident_events import ACCOUNT, stopped

HUB = "999999999999/us-east-1"
A, B = "111111111111", "222222222222"


def in_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    return json.loads(json.dumps(event).replace(ACCOUNT, account))


def fail(pipeline: Any, account: str, service: str, first: int, minute: float) -> None:
    """Three failures of a revision never seen healthy: the service's incident opens on the third."""
    for k in range(3):
        process(pipeline, in_account(stopped(first + k, minute + k / 100, service=service), account))


def test_two_accounts_tripping_the_organization_guard_at_once_open_one_organization_incident():
    store = MemoryStore()
    sns_a, slack_a, sns_b, slack_b = (RecordingChannel(n) for n in ("sns", "slack", "sns", "slack"))
    a = watchdog(store, channels=[sns_a, slack_a], organization=HUB)
    b = watchdog(store, channels=[sns_b, slack_b], organization=HUB)
    for n, (account, service) in enumerate([(A, "svc0"), (B, "svc0"), (A, "svc1"), (B, "svc1")]):
        fail(a if account == A else b, account, service, 10 * n, 1 + n / 10)
    assert store.organization(HUB) is not None and store.organization(HUB).incidents == {}  # 4: below K
    # A has read the organization item (4 services) and decided to open; B, having read the same
    # revision, opens it first. A's conditional write is refused: it reads again and covers instead.
    store.before("save_organization", lambda: fail(b, B, "svc2", 100, 2))

    fail(a, A, "svc2", 200, 2)

    assert store.stale_writes >= 1
    stored = store.organization(HUB)
    assert stored is not None
    (incident,) = stored.incidents.values()
    assert incident.accounts == {A: 3, B: 3} and incident.failures == 6
    opened = [s for c in (sns_a, sns_b) for s in c.sent if s.transition.incident.id == incident.id]
    assert [s.transition.kind for s in opened] == [TransitionKind.OPENED]  # once, by B
    # It opened with B's third service (A's third was not written yet): what it said then.
    assert f"5 services in 2 accounts failing with image: accounts {B} (3), {A} (2)" in opened[0].rendered
    assert len([s for c in (slack_a, slack_b) for s in c.sent if s.transition.incident.id == incident.id]) == 1
    # A's own: its first two services, before the guard tripped; its third is covered.
    assert [s.transition.incident.service for s in sns_a.sent] == [f"{A}/us-east-1/prod/svc{n}" for n in (0, 1)]
    assert stored.outbox == []
