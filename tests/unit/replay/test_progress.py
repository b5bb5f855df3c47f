"""Progress on long replays: drawn on a terminal (scenario i of n, events, rate), absent from pipes and JSON."""

from __future__ import annotations

import io
import re

from rich.console import Console

from ecs_watchdog.replay.command import SCENARIO_DIR
from ecs_watchdog.replay.progress import progress, run_scenarios, wanted
from ecs_watchdog.replay.scenario import load_scenario

SEED = SCENARIO_DIR / "seed-000-webhook-crash-loop.json"
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_wanted_only_on_a_terminal_and_never_for_json():
    assert wanted(Terminal())
    assert not wanted(io.StringIO())  # a pipe, a file, CI
    assert not wanted(Terminal(), json_output=True)


def test_on_a_terminal_the_replays_show_which_run_of_how_many_and_the_events():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    scenario = load_scenario(SEED)
    results = run_scenarios([(scenario, "none"), (scenario, "circuit-breaker")], show=True, console=console)
    drawn = ESCAPES.sub("", screen.getvalue())
    assert [r["policy"] for r in results] == ["none", "circuit-breaker"]
    assert "2 of 2: seed-000-webhook-crash-loop under circuit-breaker" in drawn
    assert "2/2" in drawn
    total = sum(r["events"]["total"] for r in results)
    assert f"{total:,} events" in drawn


def test_without_a_terminal_nothing_is_drawn_and_the_results_are_the_same(capsys):
    scenario = load_scenario(SEED)
    quiet = run_scenarios([(scenario, "none")], show=False)
    shown = run_scenarios([(scenario, "none")], show=True, console=Console(file=io.StringIO(), force_terminal=True))
    assert capsys.readouterr() == ("", "")
    assert quiet == shown


def test_a_watchdogs_delivered_batches_are_counted_as_they_are_handed_over():
    delivered: list[int] = []

    class Watchdog:
        def deliver(self, envelopes):
            delivered.append(len(envelopes))

        def messages(self):
            return []

        def intended_actions(self):
            return ["kept"]

    with progress(1, "replaying", show=True, console=Console(file=io.StringIO(), force_terminal=True)) as shown:
        factory = shown.counting(lambda session, clock, dry_run: Watchdog())
        assert factory is not None
        watchdog = factory(None, None, True)  # type: ignore[arg-type]
        watchdog.deliver([{}] * 10)
        watchdog.deliver([{}] * 3)
        assert shown.events == 13
        assert watchdog.intended_actions() == ["kept"]  # the runner's optional hooks still reach it
    assert delivered == [10, 3]
