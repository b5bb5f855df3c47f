"""Progress of long local work (replays, the demo, the bench) on the terminal, with `rich`.

Shown on standard error, and only when standard output is a terminal and the command was not asked for
JSON: a pipe, a file, CI logs and `--json` get exactly the output they got before, nothing else. The
display is transient: when the work is done it disappears and the command's own output follows.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TextIO

import boto3

from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.seam import SentMessage, WatchdogFactory, WatchdogUnderTest


def wanted(stdout: TextIO, json_output: bool = False) -> bool:
    """Whether to show progress: stdout is a terminal and the output is not JSON."""
    isatty = getattr(stdout, "isatty", None)
    return not json_output and bool(isatty and isatty())


class Progress:
    """A series of `total` runs: which one (i of n, its label), events processed so far, their rate.

    Disabled, it only counts (cheaply), so callers never branch on whether it is shown.
    """

    def __init__(self, total: int, what: str, display: Any | None) -> None:
        self.total, self.what, self.events = total, what, 0
        self._display = display
        self._task: Any = None
        self._done, self._started = 0, time.monotonic()
        self._label = ""
        if display is not None:
            self._task = display.add_task(what, total=total, events="", label="")

    def start(self, label: str) -> None:
        """The next run begins."""
        self._label = f"{self._done + 1} of {self.total}: {label}"
        self._update(label=self._label)

    def detail(self, text: str) -> None:
        """Where the current run is (e.g. a bench phase's scenario and policy), after its label."""
        self._update(label=f"{self._label}: {text}")

    def add_events(self, count: int) -> None:
        """`count` more events processed in the current run."""
        self.events += count
        self._update()

    def finish(self) -> None:
        """The current run is done."""
        self._done += 1
        if self._display is not None:
            self._display.advance(self._task)
        self._update()

    def counting(self, inner: WatchdogFactory | None) -> WatchdogFactory | None:
        """`inner` (or the replay's default watchdog), each delivered batch counted as it is handed over."""
        if self._display is None:
            return inner

        def make(session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> WatchdogUnderTest:
            if inner is None:
                from ecs_watchdog.replay.watchdog_adapter import make_watchdog

                built: WatchdogUnderTest = make_watchdog(session, clock, dry_run)
            else:
                built = inner(session, clock, dry_run)
            return _Counted(built, self)

        return make

    def _update(self, **fields: str) -> None:
        if self._display is None:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = f"{self.events:,} events, {self.events / elapsed:,.0f}/s" if self.events else ""
        self._display.update(self._task, events=rate, **fields)


class _Counted:
    """A watchdog whose deliveries are counted into a Progress; everything else passes through."""

    def __init__(self, inner: WatchdogUnderTest, progress: Progress) -> None:
        self._inner, self._progress = inner, progress

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        self._inner.deliver(envelopes)
        self._progress.add_events(len(envelopes))

    def messages(self) -> list[SentMessage]:
        return self._inner.messages()

    def __getattr__(self, name: str) -> Any:  # the runner's optional hooks: intended_actions, close, ...
        return getattr(self._inner, name)


@contextmanager
def progress(total: int, what: str, *, show: bool, console: Any | None = None) -> Iterator[Progress]:
    """A `Progress` over `total` runs, drawn on `console` (default: a rich Console on stderr) if `show`."""
    if not show:
        yield Progress(total, what, None)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    display = RichProgress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[label]}"),
        TextColumn("{task.fields[events]}", style="dim"),
        console=console or Console(file=sys.stderr),
        transient=True,
    )
    with display:
        yield Progress(total, what, display)


def run_scenarios(
    runs: list[tuple[Scenario, str]],
    watchdog_factory: WatchdogFactory | None = None,
    *,
    show: bool,
    console: Any | None = None,
) -> list[dict[str, Any]]:
    """`run_scenario` for each (scenario, policy) in order, with progress on `console` (stderr) if `show`."""
    from ecs_watchdog.replay.runner import run_scenario

    results = []
    with progress(len(runs), "replaying", show=show, console=console) as shown:
        for scenario, policy in runs:
            shown.start(f"{scenario.name} under {policy}")
            before = shown.events
            result = run_scenario(scenario, policy, shown.counting(watchdog_factory))
            if shown.events == before:  # no watchdog: its events were never delivered one batch at a time
                shown.add_events(int(result["events"]["total"]))
            shown.finish()
            results.append(result)
    return results
