"""How events reach the watchdog in a replay: EventBridge's delay, the SQS event source's batching window and
batch size (the scenario's `delivery`), and the event-to-action latency they make."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.scenario import Delivery, Scenario, load_scenario

from .watchdogs import ScaleToZeroWatchdog

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SERVICE = "hub-server-side-tracking-service"


def crash_loop(delivery: Delivery | None = None) -> Scenario:
    scenario = load_scenario(SCENARIOS / "seed-000-webhook-crash-loop.json")
    return scenario if delivery is None else replace(scenario, delivery=delivery)


class CountingWatchdog(ScaleToZeroWatchdog):
    """Scales to zero at the third failed stop, and keeps the size of every batch it was handed."""

    sizes: list[int]

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        self.sizes = [*getattr(self, "sizes", []), len(envelopes)]
        super().deliver(envelopes)


def replayed(delivery: Delivery | None) -> tuple[dict[str, Any], CountingWatchdog]:
    made: list[CountingWatchdog] = []

    def factory(*args: Any) -> CountingWatchdog:
        made.append(CountingWatchdog(*args))
        return made[-1]

    result = runner.run_scenario(crash_loop(delivery), "watchdog", factory)
    return result["services"][SERVICE], made[0]


def test_by_default_the_crossing_failure_is_handed_over_at_once_as_the_stack_does_a_5_s_window_holds_it():
    at_once, _ = replayed(None)
    windowed, _ = replayed(Delivery(eventbridge_to_sqs_seconds=0, batching_window_seconds=5, batch_size=10))
    assert windowed["failed_tasks_before_containment"] == at_once["failed_tasks_before_containment"] == 3
    assert 0 < windowed["event_to_action_seconds"] <= 5.0
    assert at_once["event_to_action_seconds"] == 0.0
    assert at_once["containment"]["minute"] < windowed["containment"]["minute"]


def test_eventbridge_delay_moves_the_call_later_and_batches_never_exceed_their_size():
    delayed, watchdog = replayed(Delivery(eventbridge_to_sqs_seconds=30, batching_window_seconds=0, batch_size=1))
    at_once, _ = replayed(Delivery(eventbridge_to_sqs_seconds=0, batching_window_seconds=0, batch_size=1))
    assert set(watchdog.sizes) == {1}
    assert delayed["event_to_action_seconds"] == 0.0  # counted from the queue: the delay is EventBridge's
    assert round((delayed["containment"]["minute"] - at_once["containment"]["minute"]) * 60) == 30
