"""A channel that does not answer, or does not fit in the time left, is left alone for the rest of the
invocation: its messages are deferred (kept in the outbox, released), the record is done, and whoever
processes the service next — a later invocation, the sweep's tick — delivers them, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ecs_watchdog.announce.channels import SlackChannel
from ecs_watchdog.announce.outbox import ChannelBudget
from ecs_watchdog.flow.pipeline import Pipeline
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.fakes import T0, Clock, MemoryStore, RecordingChannel, process, watchdog
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, service_action

SERVICES = tuple(f"svc-{n:02d}" for n in range(10))
# Ten services opening together would trip the correlated-failure guard: these tests want ten messages.
POLICY = LoopPolicy(correlated_services=50)


class Monotonic:
    """A settable monotonic clock, for how long a channel rests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ref(name: str) -> ServiceRef:
    return ServiceRef(account=ACCOUNT, region=REGION, cluster=CLUSTER, name=name)


def setup(store: MemoryStore, *channels: Any, worst_case: dict[str, float] | None = None) -> tuple[Pipeline, Monotonic]:
    clock = Monotonic()
    pipeline = watchdog(store, channels=channels, policy=POLICY, clock=Clock(T0))
    pipeline.outbox.budget = ChannelBudget(worst_case=worst_case or {}, monotonic=clock)
    return pipeline, clock


def open_incidents(pipeline: Pipeline, minute: float = 1) -> list[Any]:
    """One opening per service (SERVICE_TASK_START_IMPAIRED), one invocation for the lot."""
    return [
        process(pipeline, service_action("SERVICE_TASK_START_IMPAIRED", minute + n / 10, service=s))
        for n, s in enumerate(SERVICES)
    ]


def waiting(store: MemoryStore, name: str) -> list[tuple[list[str], Any]]:
    state = store.service(f"{ACCOUNT}/{REGION}/{CLUSTER}/{name}")
    assert state is not None
    return [(t.delivered, t.lease_until) for t in state.outbox]


def test_a_channel_that_does_not_answer_is_tried_once_and_its_messages_wait_unleased():
    store, sns, slack = MemoryStore(), RecordingChannel("sns"), RecordingChannel("slack", down=True)
    pipeline, _ = setup(store, sns, slack)
    outcomes = open_incidents(pipeline)  # no DeliveryFailed: no record goes back to SQS
    assert slack.attempts == 1 and len(sns.sent) == len(SERVICES)
    assert [o.deferred for o in outcomes] == [("slack",)] * len(SERVICES)
    assert [o.channels for o in outcomes] == [("sns",)] * len(SERVICES)
    assert all(waiting(store, name) == [(["sns"], None)] for name in SERVICES)


def test_the_next_invocation_tries_again_and_delivers_what_waited_exactly_once():
    store, sns, slack = MemoryStore(), RecordingChannel("sns"), RecordingChannel("slack", down=True)
    pipeline, _ = setup(store, sns, slack)
    open_incidents(pipeline)
    slack.recover()
    pipeline.outbox.budget.begin(None)  # the next invocation (the handler calls it)
    for name in SERVICES:  # the sweep's tick, with no event for these services
        pipeline.tick(ref(name), T0 + timedelta(minutes=6))
    assert sorted(slack.ids()) == sorted(sns.ids()) and len(set(slack.ids())) == len(SERVICES)
    assert len(sns.sent) == len(SERVICES)  # SNS is not sent again
    assert all(waiting(store, name) == [] for name in SERVICES)


def test_without_a_new_invocation_a_channel_rests_a_minute_then_is_tried_again():
    store, slack = MemoryStore(), RecordingChannel("slack", down=True)
    pipeline, clock = setup(store, RecordingChannel("sns"), slack)
    open_incidents(pipeline)
    clock.now += 59  # the sweep never calls begin: within the minute, still resting
    pipeline.tick(ref(SERVICES[0]), T0 + timedelta(minutes=6))
    assert slack.attempts == 1
    clock.now += 2
    slack.recover()
    pipeline.tick(ref(SERVICES[0]), T0 + timedelta(minutes=6))
    assert slack.attempts == 2 and len(slack.sent) == 1


def test_no_channel_is_tried_when_its_worst_case_does_not_fit_in_the_time_left():
    store, sns, slack = MemoryStore(), RecordingChannel("sns"), RecordingChannel("slack")
    pipeline, _ = setup(store, sns, slack, worst_case={"slack": 26.0})
    left = {"ms": 20_000}
    pipeline.outbox.budget.begin(lambda: left["ms"])
    first = process(pipeline, service_action("SERVICE_TASK_START_IMPAIRED", 1, service=SERVICES[0]))
    assert first.channels == ("sns",) and first.deferred == ("slack",) and slack.attempts == 0
    left["ms"] = 4_000  # not even the time to acknowledge an SNS message
    second = process(pipeline, service_action("SERVICE_TASK_START_IMPAIRED", 2, service=SERVICES[1]))
    assert second.channels == () and second.deferred == ("sns", "slack") and sns.attempts == 1
    assert waiting(store, SERVICES[1]) == [([], None)]
    pipeline.outbox.budget.begin(lambda: 60_000)  # a fresh invocation with its whole minute
    for name in SERVICES[:2]:
        pipeline.tick(ref(name), T0 + timedelta(minutes=6))
    assert len(sns.sent) == 2 and len(slack.sent) == 2


class HangingWebhook:
    """A webhook adapter whose every post times out (what aws/slack.py raises as SlackDown)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.hanging = True

    def post(self, payload: dict[str, Any]) -> None:
        self.posts.append(payload)
        if self.hanging:
            raise TimeoutError("Slack did not answer within 5 s")


def test_count_updates_skip_a_resting_channel_and_one_found_down_rests():
    store, webhook = MemoryStore(), HangingWebhook()
    slack = SlackChannel(webhook, down=(TimeoutError,))
    pipeline, _ = setup(store, RecordingChannel("sns"), slack)
    open_incidents(pipeline)
    assert len(webhook.posts) == 1
    due = T0 + timedelta(minutes=20)  # each incident's first count update is due
    for name in SERVICES:  # the same invocation: Slack rests, neither openings nor updates are tried
        pipeline.tick(ref(name), due)
    assert len(webhook.posts) == 1
    pipeline.outbox.budget.begin(None)
    for name in SERVICES:  # a new one: tried once more, then rests again
        pipeline.tick(ref(name), due + timedelta(minutes=1))
    assert len(webhook.posts) == 2
    webhook.hanging = False
    pipeline.outbox.budget.begin(None)
    for name in SERVICES:
        pipeline.tick(ref(name), due + timedelta(minutes=2))
    openings = [p for p in webhook.posts[2:] if not p["text"].startswith(":hourglass:")]
    assert len(openings) == len(SERVICES)
    assert all(waiting(store, name) == [] for name in SERVICES)
