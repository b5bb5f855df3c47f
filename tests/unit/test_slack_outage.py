"""An hour of Slack answering 500: SNS carries on, no record ends in the DLQ because of it (a record fails
once, for what it made itself; its retry leaves the leftover in the outbox), and when Slack is back the
sweep's tick delivers every announcement it missed, exactly once. An hour of Slack not answering at all:
no record fails, Slack costs one timeout per invocation, and the tick delivers everything just the same."""

from __future__ import annotations

from datetime import timedelta

from ecs_watchdog.announce.outbox import DeliveryFailed
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.fakes import T0, Clock, MemoryStore, RecordingChannel, process, watchdog
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, service_action, stopped

SERVICES = ("api", "web", "worker")
MAX_RECEIVE_COUNT = 5


def test_an_hour_of_slack_500s_loses_nothing_and_sends_nothing_twice():
    store, clock = MemoryStore(), Clock(T0)
    sns, slack = RecordingChannel("sns"), RecordingChannel("slack")
    slack.always_fail = True
    pipeline = watchdog(store, channels=[sns, slack], clock=clock)
    dead_lettered = retried = 0
    task = iter(range(1, 10_000))
    for minute in range(60):  # each service opens, recovers and relapses within the hour
        clock.now = T0 + timedelta(minutes=minute)
        events = [stopped(next(task), minute + 0.1 * k, service=s) for k, s in enumerate(SERVICES)]
        if minute in (20, 40):
            events = [service_action("SERVICE_STEADY_STATE", minute, service=s) for s in SERVICES]
        for event in events:
            for _ in range(MAX_RECEIVE_COUNT):  # SQS retries a failed record, then dead-letters it
                try:
                    process(pipeline, event)
                    break
                except DeliveryFailed:
                    retried += 1
                    continue
            else:
                dead_lettered += 1
    assert dead_lettered == 0 and 0 < retried <= len(sns.ids()) and slack.sent == []
    slack.recover()
    clock.now = T0 + timedelta(minutes=61)
    for name in SERVICES:  # the sweep's tick (or any later event) delivers what the outbox holds
        pipeline.tick(ServiceRef(account=ACCOUNT, region=REGION, cluster=CLUSTER, name=name), clock.now)
    assert sorted(slack.ids()) == sorted(sns.ids())  # every announcement, on both channels...
    assert len(set(slack.ids())) == len(slack.ids()) and len(set(sns.ids())) == len(sns.ids())  # ...once
    assert len(sns.ids()) >= 3 * len(SERVICES)  # opened, resolved and reopened at least, per service


def test_an_hour_of_slack_not_answering_sends_no_record_back_and_the_tick_delivers_everything_once():
    store, clock = MemoryStore(), Clock(T0)
    sns, slack = RecordingChannel("sns"), RecordingChannel("slack")
    slack.down = True  # accepts the connection, never answers: every try costs a timeout
    pipeline = watchdog(store, channels=[sns, slack], clock=clock)
    task = iter(range(1, 10_000))
    for minute in range(60):
        clock.now = T0 + timedelta(minutes=minute)
        pipeline.outbox.budget.begin(None)  # one invocation a minute, as the handler starts each
        events = [stopped(next(task), minute + 0.1 * k, service=s) for k, s in enumerate(SERVICES)]
        if minute in (20, 40):
            events = [service_action("SERVICE_STEADY_STATE", minute, service=s) for s in SERVICES]
        for event in events:
            process(pipeline, event)  # never DeliveryFailed: nothing goes back to SQS for Slack
    assert slack.sent == [] and 0 < slack.attempts <= 60  # at most one timeout per invocation
    slack.recover()
    clock.now = T0 + timedelta(minutes=61)
    pipeline.outbox.budget.begin(None)
    for name in SERVICES:
        pipeline.tick(ServiceRef(account=ACCOUNT, region=REGION, cluster=CLUSTER, name=name), clock.now)
    assert sorted(slack.ids()) == sorted(sns.ids()) and len(set(slack.ids())) == len(slack.ids())
    assert len(sns.ids()) >= 3 * len(SERVICES)
