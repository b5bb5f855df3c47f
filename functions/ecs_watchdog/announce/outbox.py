"""The outbox protocol: every incident transition reaches every channel once, whatever fails.

A transition is stored in its item's `outbox` in the same conditional write that makes it, with a
lease: until `lease_until` (wall clock; longer than the function can run) the invocation that wrote it
owns its delivery and nobody else touches it. The owner delivers to each channel independently (a
broken channel never stops a working one), then acknowledges in one write: fully delivered entries
leave the outbox; the others keep the channels that took them and lose the lease, so the next
invocation of that item (a retry, any later event, a DLQ redrive) delivers what is left, and only that.

A channel that is not taking messages (ChannelDown: Slack does not answer, cannot be reached, keeps
rate-limiting) is left alone for the rest of the invocation (`ChannelBudget`), and so is any channel
whose worst case no longer fits in the time the invocation has left: their entries are *deferred* —
acknowledged without that channel and released, for whoever processes the item next (the service's
next event, the sweep's tick). A deferral does not send the record back to SQS: a Slack that hangs
costs one timeout per invocation, not one per message, and never a batch.

An owner that dies leaves its lease to expire. An acknowledgement that cannot be written after its
retries is remembered by this container (and applied by its next write of that item), so this
container never repeats it; another container may after the lease expires — the one case of
at-least-once, documented in docs/state.md.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.channels import Channel, ChannelDown, ChannelUnavailable
from ecs_watchdog.conflicts import Contention, backoff, update_with_retry
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import OrganizationState
from ecs_watchdog.incidents.model import ServiceState, Transition
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)

D = TypeVar("D", ServiceState, AccountState, OrganizationState)
MAX_REMEMBERED = 1000  # unacknowledged deliveries this container remembers
# A channel found down rests until the next invocation begins, and this long at most: the events
# function's timeout (the sweep, the CLI and the simulator never call `begin`).
REST_SECONDS = 60.0
# What an invocation keeps after its last send: acknowledgements and the rest of the batch's writes.
FINISH_SECONDS = 5.0


@dataclass(frozen=True)
class OutboxItem(Generic[D]):
    """One stored item that has an outbox (a service's state, or the account's), bound to its store."""

    load: Callable[[bool], D | None]  # fresh: a consistent read, not this container's copy
    save: Callable[[D], D]
    what: str  # for logs: the item's key


@dataclass
class ChannelBudget:
    """Which channels may be tried now, in one invocation.

    A channel that raised ChannelDown rests: it is not tried again until `begin` starts the next
    invocation, or `rest_seconds` have passed. Once `begin` has said how much time the invocation has
    left, no channel is tried when its worst case (`worst_case`, by name) would not leave
    `finish_seconds` to acknowledge: a slow Slack cannot run the batch into the function's timeout."""

    worst_case: dict[str, float] = field(default_factory=dict)  # channel name → seconds one send may take
    rest_seconds: float = REST_SECONDS
    finish_seconds: float = FINISH_SECONDS
    monotonic: Callable[[], float] = time.monotonic
    _resting: dict[str, float] = field(default_factory=dict)  # channel name → when it may be tried again
    _remaining_ms: Callable[[], int] | None = None

    def begin(self, remaining_ms: Callable[[], int] | None) -> None:
        """A new invocation (`remaining_ms`: Lambda's `context.get_remaining_time_in_millis`): every
        channel may be tried again, within the time the invocation has left."""
        self._resting.clear()
        self._remaining_ms = remaining_ms

    def held_back(self, channel: str) -> str | None:
        """Why `channel` is not to be tried now; None when it may be."""
        until = self._resting.get(channel)
        if until is not None:
            if self.monotonic() < until:
                return "it did not take a message earlier in this invocation"
            del self._resting[channel]
        if self._remaining_ms is not None:
            left = self._remaining_ms() / 1000
            needed = self.worst_case.get(channel, 0.0) + self.finish_seconds
            if left < needed:
                return f"{left:.1f} s left in this invocation; a send may need {needed:g} s"
        return None

    def rest(self, channel: str) -> None:
        """`channel` is not taking messages: leave it alone for the rest of this invocation."""
        self._resting[channel] = self.monotonic() + self.rest_seconds


@dataclass
class Delivery:
    """What one invocation's deliveries came to."""

    channels: list[str] = field(default_factory=list)  # one name per message that went out
    taken: dict[str, set[str]] = field(default_factory=dict)  # transition id → channels that took it now
    failures: list[str] = field(default_factory=list)  # passing errors
    failed_ids: set[str] = field(default_factory=set)  # the transitions some channel failed to take
    fresh: set[str] = field(default_factory=set)  # account and containment transitions made by this event
    unavailable: list[str] = field(default_factory=list)  # misconfigured channels, reported loudly
    deferred: list[str] = field(default_factory=list)  # one channel name per message kept for later (down, no time)
    actions: list[Any] = field(default_factory=list)  # containment records made on the way (ActionRecord)
    failures_contained: list[str] = field(default_factory=list)  # containment errors (logged, not retried)

    def add(self, other: Delivery) -> None:
        self.channels += other.channels
        self.failures += other.failures
        self.failed_ids |= other.failed_ids
        self.unavailable += other.unavailable
        self.deferred += other.deferred
        for key, names in other.taken.items():
            self.taken.setdefault(key, set()).update(names)


class DeliveryFailed(RuntimeError):
    """At least one channel failed for a passing reason; what did go out is recorded, the rest retried."""


@dataclass
class Outbox:
    """Leases, per-channel delivery and acknowledgement of outbox entries. Channels and clock are injected."""

    channels: Sequence[Channel]
    clock: Callable[[], datetime]
    lease: timedelta
    pause: Callable[[int], None] = backoff
    budget: ChannelBudget = field(default_factory=ChannelBudget)
    # Delivered here but not acknowledged in the table (its write kept failing): transition id → channels.
    _unacknowledged: dict[str, set[str]] = field(default_factory=dict)

    @property
    def channel_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.channels)

    # -- leases -------------------------------------------------------------------------------------
    def due(self, outbox: Iterable[Transition], now: datetime, owner: str | None = None) -> list[Transition]:
        """Entries nobody else is delivering: never leased, released, whose owner's lease ran out, or
        leased to `owner` itself (a write whose reply was lost took effect: its entries are still its own)."""
        return [
            t
            for t in outbox
            if t.lease_until is None or t.lease_until <= now or (owner is not None and t.lease_owner == owner)
        ]

    def take(self, outbox: list[Transition], ids: set[str], owner: str) -> list[Transition]:
        """The outbox with `ids` leased to `owner` (to be saved by the caller's conditional write), and
        what this container already delivered of them folded in."""
        until = self.clock() + self.lease
        return [
            self._known(t).model_copy(update={"lease_until": until, "lease_owner": owner}) if t.id in ids else t
            for t in outbox
        ]

    def claim(self, item: OutboxItem[D], owner: str) -> list[Transition]:
        """Lease whatever in the item's outbox is due to `owner` with a conditional write; returns it."""
        claimed: list[Transition] = []

        def change(doc: D) -> D | None:
            claimed.clear()
            due = {t.id for t in self.due(doc.outbox, self.clock())}
            if not due:
                return None
            outbox = self.take(doc.outbox, due, owner)
            claimed.extend(t for t in outbox if t.id in due)
            return doc.model_copy(update={"outbox": outbox})

        update_with_retry(item.load, change, item.save, what=f"claim outbox of {item.what}", pause=self.pause)
        return list(claimed)

    # -- delivery -----------------------------------------------------------------------------------
    def deliver(self, transition: Transition, ref: ServiceRef) -> Delivery:
        """Send to every channel that has not taken it yet, each on its own: one failing never stops another,
        and one the budget holds back (down earlier in this invocation, or no time left) is deferred."""
        result = Delivery(taken={transition.id: set()})
        done = set(self._known(transition).delivered)
        for channel in self.channels:
            if channel.name not in done:
                self._attempt(channel, functools.partial(channel.send, transition, ref), [transition], result)
        return self._announced(result)

    def deliver_together(self, opened: Transition, contained: Transition, ref: ServiceRef) -> Delivery:
        """Like `deliver`, for an incident's opening and its containment: a channel that owes both and can
        say both at once (a OneMessageChannel: webhook, email) gets one message; any other channel, or one
        that already took the opening, gets each it still owes, the opening first."""
        pair = [opened, contained]
        result = Delivery(taken={t.id: set() for t in pair})
        owed = {t.id: set(self._known(t).delivered) for t in pair}
        for channel in self.channels:
            missing = [t for t in pair if channel.name not in owed[t.id]]
            send_together = getattr(channel, "send_together", None)
            if len(missing) == 2 and send_together is not None:
                self._attempt(channel, functools.partial(send_together, opened, contained, ref), pair, result)
                continue
            for transition in missing:
                if not self._attempt(channel, functools.partial(channel.send, transition, ref), [transition], result):
                    break  # the containment never goes out ahead of its opening
        return self._announced(result)

    def _attempt(
        self, channel: Channel, send: Callable[[], None], transitions: list[Transition], result: Delivery
    ) -> bool:
        """One send of `transitions` (one message) to `channel`, its outcome recorded in `result`; True when
        the channel took it (or never can: unavailable)."""
        ids = ", ".join(t.id for t in transitions)
        held = self.budget.held_back(channel.name)
        if held is not None:
            logger.info(
                "announcement deferred: it waits in the outbox for the next event or the sweep's tick",
                extra={"channel": channel.name, "transition": ids, "reason": held},
            )
            result.deferred.append(channel.name)
            return False
        try:
            send()
        except ChannelUnavailable as error:
            # A person must fix it; retrying would only delay the other channels' next messages.
            logger.error(
                "announcement channel unavailable: this transition will not reach it",
                extra={"channel": channel.name, "transition": ids, "problem": str(error)},
            )
            result.unavailable.append(channel.name)
            for t in transitions:
                result.taken[t.id].add(channel.name)
            return True
        except ChannelDown as error:
            self.budget.rest(channel.name)
            logger.warning(
                "announcement channel not answering: left alone for the rest of this invocation; its "
                "messages wait in the outbox for the next event or the sweep's tick",
                extra={"channel": channel.name, "transition": ids, "problem": _describe(error)},
            )
            result.deferred.append(channel.name)
            return False
        except Exception as error:
            logger.warning(
                "announcement channel failed; it will be retried",
                extra={"channel": channel.name, "transition": ids, "problem": _describe(error)},
            )
            result.failures.append(f"{channel.name}: {_describe(error)}")
            result.failed_ids.update(t.id for t in transitions)
            return False
        result.channels.append(channel.name)
        for t in transitions:
            result.taken[t.id].add(channel.name)
        return True

    @staticmethod
    def _announced(result: Delivery) -> Delivery:
        if result.channels:
            logger.info(
                "incident transition announced",
                extra={"transition": ", ".join(sorted(result.taken)), "channels": result.channels},
            )
        return result

    def complete(self, transition: Transition, taken: set[str]) -> bool:
        """Whether every configured channel has taken (or cannot take) the transition."""
        return self.channel_names <= {*self._known(transition).delivered, *taken}

    # -- acknowledgement ----------------------------------------------------------------------------
    def acknowledge(self, item: OutboxItem[D], taken: dict[str, set[str]], done: set[str], owner: str) -> None:
        """Record what went out in one write: `done` entries leave the outbox; the others keep the channels
        that took them and are released (if still ours) for the next invocation. Never raises: a failed
        acknowledgement is remembered here, and the delivery it records is not repeated by this container."""
        for key, names in taken.items():
            if names:
                self._unacknowledged.setdefault(key, set()).update(names)
        for key in list(self._unacknowledged)[: max(0, len(self._unacknowledged) - MAX_REMEMBERED)]:
            del self._unacknowledged[key]  # oldest first: bounded memory in a long-lived container

        def change(doc: D) -> D | None:
            outbox: list[Transition] = []
            for t in doc.outbox:
                if t.id in done:
                    continue
                known = self._known(t)
                if t.id in taken and t.lease_owner == owner:
                    known = known.model_copy(update={"lease_until": None, "lease_owner": None})
                outbox.append(known)
            return None if outbox == doc.outbox else doc.model_copy(update={"outbox": outbox})

        try:
            update_with_retry(item.load, change, item.save, what=f"acknowledge {item.what}", pause=self.pause)
        except (Contention, Exception) as error:
            logger.error(
                "could not acknowledge delivered announcements; this container remembers them",
                extra={"item": item.what, "transitions": sorted(taken), "problem": _describe(error)},
            )
            return
        for key in taken:
            self._unacknowledged.pop(key, None)

    def _known(self, transition: Transition) -> Transition:
        """The entry with what this container delivered but could not record folded in."""
        extra = self._unacknowledged.get(transition.id)
        if not extra or extra <= set(transition.delivered):
            return transition
        return transition.model_copy(update={"delivered": sorted({*transition.delivered, *extra})})


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]
