"""The seam `Pipeline.process` calls for a failed ECS API call: count it, store it, announce a new finding.

Same protocol as incident transitions (announce/outbox.py): the finding is stored in its item's outbox
with a lease in the conditional write that counts it; the owner delivers it to each channel and
acknowledges in one write; whatever is left (a channel that failed, an owner that died) goes out with
the next event for that family/service. No boto3 here: the store and the outbox are given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ecs_watchdog.announce.outbox import Delivery, DeliveryFailed, Outbox
from ecs_watchdog.api_errors.findings import (
    DEDUPE_WINDOW,
    ApiErrorDecision,
    ApiErrorFinding,
    ApiErrorState,
    api_error_finding,
    record_api_error,
)
from ecs_watchdog.conflicts import backoff, retry_on_conflict, update_with_retry
from ecs_watchdog.events import ApiCallErrorEvent
from ecs_watchdog.incidents.model import Transition


class ApiErrorStates(Protocol):
    def load(self, subject: str, fresh: bool = True) -> ApiErrorState | None: ...
    def save(self, state: ApiErrorState, now: datetime) -> ApiErrorState: ...


@dataclass(frozen=True)
class ApiErrorOutcome:
    """What became of one failed call: a new finding announced, a repeat counted, or a duplicate."""

    finding: ApiErrorFinding
    kind: str  # finding | counted | duplicate
    count: int
    note: str
    channels: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()


def announce_api_error(
    event: ApiCallErrorEvent,
    store: ApiErrorStates,
    outbox: Outbox,
    now: datetime,
    window: timedelta = DEDUPE_WINDOW,
    pause: Callable[[int], None] = backoff,
) -> ApiErrorOutcome:
    """Count a failed ECS API call on its family/service and announce it when it is a new finding.

    Storage errors propagate; a channel failing for a passing reason raises DeliveryFailed after
    recording what did go out, so the caller hands the event back to SQS (a retry delivers the rest)."""
    finding = api_error_finding(event)
    owner = uuid.uuid4().hex

    def attempt(n: int) -> tuple[ApiErrorDecision, list[Transition]]:
        state = store.load(finding.key, fresh=n > 0) or ApiErrorState(subject=finding.key)
        decision = record_api_error(state, finding, window)
        mine = {decision.transition.id} if decision.transition else set()
        due = {t.id for t in outbox.due(decision.state.outbox, outbox.clock())} - mine
        if not decision.changed and not due:
            return decision, []
        leased = outbox.take(decision.state.outbox, mine | due, owner)
        saved = store.save(decision.state.model_copy(update={"outbox": leased}), now)
        return decision, [t for t in saved.outbox if t.id in mine | due]

    decision, entries = retry_on_conflict(attempt, what=finding.key, pause=pause)
    delivery = Delivery()
    done: set[str] = set()
    for transition in entries:
        sent = outbox.deliver(transition, finding.ref)
        delivery.add(sent)
        if outbox.complete(transition, sent.taken[transition.id]):
            done.add(transition.id)
    if entries:
        _acknowledge(store, finding.key, delivery.taken, done, owner, now, pause)
    if delivery.failures or delivery.deferred:
        # Unlike a service's outbox, a finding's is not ticked by the sweep: what a channel did not take
        # (even one that is down) goes back to SQS, whose retry delivers the rest.
        deferred = [f"{name}: deferred (not taking messages, or no time left)" for name in delivery.deferred]
        raise DeliveryFailed(f"{finding.ref.label}: " + "; ".join([*delivery.failures, *deferred]))
    kind = "finding" if decision.transition else "counted" if decision.changed else "duplicate"
    return ApiErrorOutcome(
        finding, kind, decision.count, decision.note, tuple(delivery.channels), tuple(delivery.unavailable)
    )


def _acknowledge(
    store: ApiErrorStates,
    subject: str,
    taken: dict[str, set[str]],
    done: set[str],
    owner: str,
    now: datetime,
    pause: Callable[[int], None],
) -> None:
    """Delivered entries leave the outbox; the others keep the channels that took them and are released."""

    def change(state: ApiErrorState) -> ApiErrorState | None:
        outbox: list[Transition] = []
        for t in state.outbox:
            if t.id in done:
                continue
            if t.id in taken and t.lease_owner == owner:
                delivered = sorted({*t.delivered, *taken[t.id]})
                t = t.model_copy(update={"delivered": delivered, "lease_until": None, "lease_owner": None})
            outbox.append(t)
        return None if outbox == state.outbox else state.model_copy(update={"outbox": outbox})

    update_with_retry(
        lambda fresh: store.load(subject, fresh=True),
        change,
        lambda state: store.save(state, now),
        what=f"acknowledge {subject}",
        pause=pause,
    )
