"""Count updates of an ongoing incident come from the sweep's tick, on the cadence, to Slack only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ecs_watchdog.incidents.model import Incident
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.fakes import T0, MemoryStore, RecordingChannel, process, watchdog
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, stopped

REF = ServiceRef(account=ACCOUNT, region=REGION, cluster=CLUSTER, name=SERVICE)


class SlackWithUpdates(RecordingChannel):
    """A Slack channel that also takes count updates, as SlackChannel and SlackBotChannel do."""

    def __init__(self) -> None:
        super().__init__("slack")
        self.updates: list[tuple[str, datetime]] = []

    def send_update(self, incident: Incident, ref: ServiceRef, now: datetime) -> Any:
        self.updates.append((incident.id, now))
        return True


def test_an_ongoing_incident_gets_count_updates_at_5_15_30_and_60_minutes_then_hourly_on_slack_only():
    store, sns, slack = MemoryStore(), RecordingChannel("sns"), SlackWithUpdates()
    pipeline = watchdog(store, channels=[sns, slack])
    for n in (1, 2, 3):
        process(pipeline, stopped(n, n))  # opens at minute 3
    opened = T0 + timedelta(minutes=3)
    for minute in range(1, 181):  # a sweep every minute for three hours
        pipeline.tick(REF, opened + timedelta(minutes=minute))
    after = [int((at - opened).total_seconds() // 60) for _, at in slack.updates]
    assert after == [5, 15, 30, 60, 120, 180]
    assert len(sns.sent) == 1  # email got the opening, no count updates


def test_a_second_sweep_in_the_same_slot_sends_nothing_again():
    store, slack = MemoryStore(), SlackWithUpdates()
    first, second = watchdog(store, channels=[slack]), watchdog(store, channels=[slack])
    for n in (1, 2, 3):
        process(first, stopped(n, n))
    at = T0 + timedelta(minutes=9)
    first.tick(REF, at)
    second.tick(REF, at)  # another container, same slot: the claim on the incident stops it
    assert len(slack.updates) == 1
