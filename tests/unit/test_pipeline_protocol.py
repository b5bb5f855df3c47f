"""The outbox protocol end to end, on in-memory adapters: leases, per-channel delivery, acknowledgement,
leftovers, races between containers and the account guard. Each test is one behaviour; "A" and "B" are
two Lambda containers (two pipelines over one store)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from ecs_watchdog.announce.outbox import DeliveryFailed
from ecs_watchdog.conflicts import MAX_ATTEMPTS, Contention, StaleWrite, StoreBusy
from ecs_watchdog.flow.intake import Intake
from ecs_watchdog.flow.pipeline import Outcome, Pipeline
from ecs_watchdog.incidents.model import IncidentKind
from ecs_watchdog.incidents.policy import LoopPolicy
from tests.fakes import (
    Clock,
    ContainerDied,
    MemoryStore,
    RecordingChannel,
    RecordingParker,
    process,
    watchdog,
)
from tests.integration.incident_events import (
    ACCOUNT,
    CLUSTER,
    REGION,
    SERVICE,
    bodies,
    stopped,
)

KEY = f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
LEASE_SECONDS = 90
VISIBILITY_TIMEOUT_SECONDS = 360  # infra/ingest.py: six times the function's 60 s timeout


def channels() -> tuple[RecordingChannel, RecordingChannel]:
    return RecordingChannel("sns"), RecordingChannel("slack")


def two_failures(pipeline: Pipeline) -> None:
    """Two failures of a revision never seen healthy: one short of the default threshold."""
    process(pipeline, stopped(1, 1))
    process(pipeline, stopped(2, 2))


# --------------------------------------------------------------------------------------------------
# Leases


def test_an_entry_leased_to_an_invocation_still_delivering_is_left_to_it():
    store, clock = MemoryStore(), Clock()
    sns_a, slack_a = channels()
    sns_b, slack_b = channels()
    a = watchdog(store, channels=[sns_a, slack_a], clock=clock)
    b = watchdog(store, channels=[sns_b, slack_b], clock=clock)
    two_failures(a)
    during: list[Outcome] = []
    sns_a.during_send = lambda transition: during.append(process(b, stopped(4, 4)))  # B runs while A sends

    outcome = process(a, stopped(3, 3))

    assert during[0].kind == "counted" and during[0].channels == ()  # B counted its stop, announced nothing
    assert sns_b.sent == slack_b.sent == []
    assert sns_a.ids() == slack_a.ids() == [t.id for t in outcome.transitions]
    assert store.service(KEY).outbox == []  # A's acknowledgement survived B's write in between


def test_an_entry_whose_owner_died_is_delivered_by_the_next_event_once_the_lease_expires():
    store, clock = MemoryStore(), Clock()
    sns_a, slack_a = channels()
    sns_b, slack_b = channels()
    a = watchdog(store, channels=[sns_a, slack_a], clock=clock, lease=timedelta(seconds=LEASE_SECONDS))
    b = watchdog(store, channels=[sns_b, slack_b], clock=clock)
    two_failures(a)

    def die(transition: Any) -> None:
        raise ContainerDied

    sns_a.during_send = die
    with pytest.raises(ContainerDied):
        process(a, stopped(3, 3))
    (stored,) = store.service(KEY).outbox

    clock.advance(seconds=LEASE_SECONDS - 1)
    assert process(b, stopped(4, 4)).channels == ()  # the lease still holds: A may yet deliver it
    clock.advance(seconds=2)
    outcome = process(b, stopped(5, 5))

    assert outcome.channels == ("sns", "slack")
    assert sns_b.ids() == slack_b.ids() == [stored.id]
    assert sns_a.sent == slack_a.sent == []
    assert store.service(KEY).outbox == []


# --------------------------------------------------------------------------------------------------
# Acknowledgement


def test_an_acknowledgement_that_is_throttled_once_is_retried_and_nothing_is_sent_twice():
    store, clock = MemoryStore(), Clock()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack], clock=clock)
    two_failures(a)
    # The event's first service write stores the transition; the second is its acknowledgement.
    store.inject("save_service", StoreBusy("ThrottlingException"), on_call=2)

    outcome = process(a, stopped(3, 3))
    clock.advance(seconds=LEASE_SECONDS + 1)
    process(a, stopped(4, 4))

    assert outcome.kind == "transition"
    assert sns.ids() == slack.ids() == [t.id for t in outcome.transitions]
    assert store.service(KEY).outbox == []


def test_an_acknowledgement_that_never_sticks_is_remembered_so_the_same_container_sends_nothing_again():
    store, clock = MemoryStore(), Clock()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack], clock=clock)
    two_failures(a)
    store.inject("save_service", StoreBusy("ThrottlingException"), on_call=2, times=MAX_ATTEMPTS)

    outcome = process(a, stopped(3, 3))  # delivered; its acknowledgement failed every attempt
    (left,) = store.service(KEY).outbox
    assert left.delivered == []  # the table does not know it went out
    clock.advance(seconds=LEASE_SECONDS + 1)  # the lease is over: the entry is anybody's
    process(a, stopped(4, 4))

    assert sns.ids() == slack.ids() == [t.id for t in outcome.transitions]
    assert store.service(KEY).outbox == []  # the next write recorded it and let it go


def test_an_acknowledgement_lost_by_one_container_is_repeated_by_another_after_the_lease():
    """The one documented case of at-least-once (announce/outbox.py): another container cannot know."""
    store, clock = MemoryStore(), Clock()
    sns_a, slack_a = channels()
    sns_b, slack_b = channels()
    a = watchdog(store, channels=[sns_a, slack_a], clock=clock)
    b = watchdog(store, channels=[sns_b, slack_b], clock=clock)
    two_failures(a)
    store.inject("save_service", StoreBusy("ThrottlingException"), on_call=2, times=MAX_ATTEMPTS)
    process(a, stopped(3, 3))
    clock.advance(seconds=LEASE_SECONDS + 1)

    process(b, stopped(4, 4))

    assert len(sns_a.sent) == len(sns_b.sent) == 1


@pytest.mark.parametrize("lost_reply", [StaleWrite("own write"), StoreBusy("InternalServerError")])
def test_a_transition_whose_write_reply_was_lost_is_still_announced_by_its_invocation(lost_reply: Exception):
    store = MemoryStore()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack])
    two_failures(a)
    store.inject("save_service", lost_reply, applied=True)

    outcome = process(a, stopped(3, 3))

    assert len(store.service(KEY).incidents) == 1  # the write did take effect
    assert len(sns.sent) == len(slack.sent) == 1, outcome


def test_an_account_transition_whose_write_reply_was_lost_is_still_announced_by_its_invocation():
    store = MemoryStore()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack], policy=LoopPolicy(correlated_services=2))
    for n in (1, 2, 3):
        process(a, stopped(n, n, service="api"))
    for n in (4, 5):
        process(a, stopped(n, n, service="web"))
    store.inject("save_account", StaleWrite("own write"), applied=True)  # the write that opens it

    process(a, stopped(6, 6, service="web"))

    assert len(store.account(f"{ACCOUNT}/{REGION}").incidents) == 1  # the write did take effect
    assert [t for t in sns.ids() if t.startswith("account-")] != []


# --------------------------------------------------------------------------------------------------
# Per-channel delivery


def test_when_sns_fails_slack_still_gets_it_and_the_retry_sends_sns_only():
    store = MemoryStore()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack])
    intake = Intake(a, RecordingParker())
    two_failures(a)
    sns.fail(times=1)
    (body,) = bodies(stopped(3, 3))

    with pytest.raises(DeliveryFailed):
        intake.record(body, "m-3")
    assert (sns.ids(), len(slack.sent)) == ([], 1)
    retried = intake.record(body, "m-3")  # SQS delivers it again

    assert retried is not None and retried.channels == ("sns",)
    assert sns.ids() == slack.ids() == [slack.sent[0].transition.id]
    assert store.service(KEY).outbox == []


def test_an_account_transition_sns_took_and_slack_refused_once_reaches_sns_exactly_once():
    store = MemoryStore()
    sns, slack = channels()
    a = watchdog(store, channels=[sns, slack], policy=LoopPolicy(correlated_services=2))
    intake = Intake(a, RecordingParker())
    slack.fail(times=1, when=lambda t: t.incident.kind is IncidentKind.CORRELATED)
    for n in (1, 2, 3):
        intake.record(*bodies(stopped(n, n, service="api")), f"m-{n}")
    for n in (4, 5):
        intake.record(*bodies(stopped(n, n, service="web")), f"m-{n}")
    (body,) = bodies(stopped(6, 6, service="web"))  # web opens: two services, one cause → account incident

    with pytest.raises(DeliveryFailed):
        intake.record(body, "m-6")
    intake.record(body, "m-6")

    account_ids = [t for t in sns.ids() if t.startswith("account-")]
    assert len(account_ids) == 1 and Counter(sns.ids()) == Counter(slack.ids())
    assert all(count == 1 for count in Counter(sns.ids()).values())
    assert len(sns.sent) == 2  # api's own OPENED, then the account's; web's is covered by it
    assert store.account(f"{ACCOUNT}/{REGION}").outbox == []
    assert store.service(f"{ACCOUNT}/{REGION}/{CLUSTER}/web").outbox == []


def test_a_dlq_redrive_delivers_what_the_outbox_still_holds():
    store = MemoryStore()
    sns_a, slack_a = channels()
    slack_a.always_fail = True
    a = Intake(watchdog(store, channels=[sns_a, slack_a]), RecordingParker())
    for n in (1, 2):
        a.record(*bodies(stopped(n, n)), f"m-{n}")
    (body,) = bodies(stopped(3, 3))
    with pytest.raises(DeliveryFailed):  # what this event made did not reach Slack: SQS retries it
        a.record(body, "m-3")
    # The retry finds only a leftover failing again: the record is done (a channel that stays down must
    # not drive every record into the DLQ) and the entry waits in the outbox for a later delivery.
    assert a.record(body, "m-3") is not None and store.service(KEY).outbox != []
    sns_b, slack_b = channels()
    b = Intake(watchdog(store, channels=[sns_b, slack_b]), RecordingParker())

    redriven = b.record(body, "redriven-m-3")  # a new message with the same body, in another container

    assert redriven is not None and redriven.channels == ("slack",)
    assert len(slack_b.sent) == 1 and slack_a.sent == []
    assert len(sns_a.sent) == 1 and sns_b.sent == []
    assert store.service(KEY).outbox == []


def test_an_unavailable_channel_does_not_fail_the_record_and_the_other_channel_gets_the_message():
    store = MemoryStore()
    sns, slack = channels()
    slack.unavailable = True
    counted: Counter[str] = Counter()
    intake = Intake(watchdog(store, channels=[sns, slack]), RecordingParker(), lambda name, _: counted.update([name]))
    for n in (1, 2):
        intake.record(*bodies(stopped(n, n)), f"m-{n}")

    outcome = intake.record(*bodies(stopped(3, 3)), "m-3")

    assert outcome is not None and outcome.unavailable == ("slack",) and outcome.channels == ("sns",)
    assert len(sns.sent) == 1 and slack.sent == []
    assert counted["ChannelUnavailable"] == 1
    assert store.service(KEY).outbox == []  # nothing is kept for a channel no retry can reach


def test_an_account_write_that_keeps_failing_hands_the_event_back_and_its_retry_announces():
    store, clock = MemoryStore(), Clock()
    sns, slack = channels()
    intake = Intake(watchdog(store, channels=[sns, slack], clock=clock), RecordingParker())
    for n in (1, 2):
        intake.record(*bodies(stopped(n, n)), f"m-{n}")
    store.inject("save_account", StoreBusy("ThrottlingException"), times=MAX_ATTEMPTS)
    (body,) = bodies(stopped(3, 3))

    with pytest.raises(Contention):
        intake.record(body, "m-3")  # stored (with its lease), not announced
    assert sns.sent == [] and len(store.service(KEY).outbox) == 1
    clock.advance(seconds=VISIBILITY_TIMEOUT_SECONDS)  # SQS hands the record out again
    retried = intake.record(body, "m-3")

    assert retried is not None and retried.channels == ("sns", "slack")
    assert len(sns.sent) == len(slack.sent) == 1
    assert store.service(KEY).outbox == []


# --------------------------------------------------------------------------------------------------
# Races


def test_two_containers_racing_on_one_service_make_one_incident_and_one_announcement_per_channel():
    store = MemoryStore()
    sns_a, slack_a = channels()
    sns_b, slack_b = channels()
    a = watchdog(store, channels=[sns_a, slack_a])
    b = watchdog(store, channels=[sns_b, slack_b])
    two_failures(a)
    raced: list[Outcome] = []
    # A has read (its own copy: two failures); B reads the same revision and writes first.
    store.before("save_service", lambda: raced.append(process(b, stopped(4, 4))))

    loser = process(a, stopped(3, 3))

    assert raced[0].kind == "transition" and loser.kind == "counted" and loser.transitions == ()
    assert store.stale_writes == 1  # A's write was refused; it read again and decided again
    (incident,) = store.service(KEY).incidents.values()
    assert incident.failures == 4
    assert [*sns_a.ids(), *sns_b.ids()] == [*slack_a.ids(), *slack_b.ids()] == [raced[0].transitions[0].id]


def test_two_threads_that_both_read_before_either_writes_make_exactly_one_incident():
    store = MemoryStore()
    sns_a, slack_a = channels()
    sns_b, slack_b = channels()
    a = watchdog(store, channels=[sns_a, slack_a])
    b = watchdog(store, channels=[sns_b, slack_b])
    two_failures(watchdog(store, channels=[]))  # a third container: both racers start cold
    barrier = threading.Barrier(2, timeout=60)
    store.before("save_service", barrier.wait, on_call=1)
    store.before("save_service", barrier.wait, on_call=2)
    outcomes: list[Outcome] = []
    racers = ((a, stopped(3, 3)), (b, stopped(4, 4)))
    threads = [threading.Thread(target=lambda p=p, e=e: outcomes.append(process(p, e))) for p, e in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(o.kind for o in outcomes) == ["counted", "transition"]
    assert store.stale_writes >= 1
    assert len(store.service(KEY).incidents) == 1
    assert len([*sns_a.sent, *sns_b.sent]) == len([*slack_a.sent, *slack_b.sent]) == 1
