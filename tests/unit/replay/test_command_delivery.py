"""`ecs-watchdog replay`'s delivery flags: without them a scenario is delivered as the deployed stack does by
default; `--batching-window 5` brings back the simulator's earlier 5-second window."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ecs_watchdog.replay.command import add_replay_arguments, with_delivery
from ecs_watchdog.replay.scenario import Delivery, load_scenario

SEED = Path(__file__).resolve().parents[3] / "scenarios" / "seed-000-webhook-crash-loop.json"


def delivery_for(*argv: str) -> Delivery:
    parser = argparse.ArgumentParser()
    add_replay_arguments(parser)
    return with_delivery(load_scenario(SEED), parser.parse_args(list(argv))).delivery


def test_without_flags_the_stacks_batching_no_window_ten_records_no_delay() -> None:
    assert delivery_for() == Delivery(eventbridge_to_sqs_seconds=0.0, batching_window_seconds=0.0, batch_size=10)


def test_each_flag_replaces_only_its_own_part_of_the_delivery() -> None:
    assert delivery_for("--batching-window", "5") == Delivery(0.0, 5.0, 10)
    assert delivery_for("--delivery-delay", "2.5", "--batch-size", "1") == Delivery(2.5, 0.0, 1)


def test_a_window_the_event_source_cannot_have_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        delivery_for("--batching-window", "301")
    assert "seconds from 0 to 300" in capsys.readouterr().err
