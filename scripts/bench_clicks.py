"""Approvals from Slack: 100 presses of one proposal make one action; the time from a click to the ECS call.

    scripts/run.sh python scripts/bench_clicks.py              # 100 presses on 8 threads, 15 timed approvals
    scripts/run.sh python scripts/bench_clicks.py --presses 200 --runs 30

Runs the real events handler (approve mode, a failing rollout: a rollback is proposed) and the real click
desk against moto in this process; the clock stops at the botocore call of StopServiceDeployment.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the set-up lives beside the tests

from ecs_watchdog.approvals.click import ClickOutcome, ClickResult
from ecs_watchdog.contain.models import Mode
from tests.integration import test_click_desk as desk_tests
from tests.integration.test_containment import calls, sandbox_with


def presses_of_one_proposal(presses: int) -> tuple[list[ClickOutcome], list[str], float, float | None]:
    """(outcomes, ECS writes, wall seconds, seconds from the first press to StopServiceDeployment)."""
    for sandbox in sandbox_with(Mode.APPROVE):
        incident = desk_tests.proposed(sandbox)
        reached: list[float] = []

        def stamp(reached: list[float] = reached, **_: Any) -> None:
            reached.append(time.perf_counter())

        sandbox.session.events.register_first("before-call.ecs.StopServiceDeployment", stamp, unique_id="bench")
        desk = desk_tests.desk(sandbox)  # after the hook: a client copies the session's handlers when made
        users = (desk_tests.ALICE, desk_tests.BOB)
        clicks = [desk_tests.click(incident, user=users[n % 2], action_ts=f"{n}.0") for n in range(presses)]
        started = time.perf_counter()
        if presses == 1:
            outcomes = [desk.handle(clicks[0])]
        else:
            with ThreadPoolExecutor(8) as pool:
                outcomes = list(pool.map(desk.handle, clicks))
        wall = time.perf_counter() - started
        return outcomes, calls(sandbox), wall, (reached[0] - started) if reached else None
    raise RuntimeError("no sandbox")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON logs
        outcomes, writes, wall, _ = presses_of_one_proposal(args.presses)
        latencies = []
        for _ in range(args.runs):
            single, made, _, reached = presses_of_one_proposal(1)
            assert single[0].result is ClickResult.DONE and made == ["StopServiceDeployment"], single
            assert reached is not None
            latencies.append(reached * 1000)
    results = dict(Counter(str(o.result) for o in outcomes))
    print(f"{args.presses} presses of one proposal (8 threads): {results}; ECS writes {writes}; {wall:.2f} s")
    print(
        f"click -> StopServiceDeployment: median {statistics.median(latencies):.0f} ms "
        f"(min {min(latencies):.0f}, max {max(latencies):.0f}, n={len(latencies)})"
    )


if __name__ == "__main__":
    main()
