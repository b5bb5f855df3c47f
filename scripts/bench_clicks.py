"""Approvals from Slack, through the deployed entry point: 100 presses of one proposal make one action; the
time from Slack's signed HTTP request to the ECS call.

    scripts/run.sh python scripts/bench_clicks.py              # 100 presses on 8 threads, 15 timed approvals
    scripts/run.sh python scripts/bench_clicks.py --presses 200 --runs 30

Each press is a signed Function URL request (Slack's documented block_actions payload, of the button the bot's
living message shows) to `handlers.slack_interactions.handler`, which verifies it and hands it to the real click
desk; the events handler opened the incident and proposed the rollback (approve mode, a failing rollout). moto
and a fake Slack on 127.0.0.1, in this process; the clock stops at the botocore call of StopServiceDeployment.
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

from ecs_watchdog.approvals.click import ButtonKind
from tests.integration.test_slack_approvals import Desk, approving_through_slack


def presses_of_one_proposal(desk: Desk, presses: int) -> tuple[Counter[str], list[str], float]:
    """(replies by their first word, ECS writes, wall seconds) of `presses` signed presses on 8 threads."""
    desk.propose("many-presses", first=9000)
    value = desk.press.button("many-presses", ButtonKind.APPROVE)

    def press(n: int) -> str:
        return desk.press("many-presses", ButtonKind.APPROVE, action_ts=f"1764751000.{n:06d}", value=value)

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(press, range(presses)))
    wall = time.perf_counter() - started
    return Counter(r.split(":")[0] for r in replies), desk.writes("many-presses"), wall


def request_to_ecs_call(desk: Desk, runs: int) -> list[float]:
    """Milliseconds from each signed request to its StopServiceDeployment call (one fresh proposal each)."""
    reached: list[float] = []

    def stamp(**_: Any) -> None:
        reached.append(time.perf_counter())

    desk.sandbox.session.events.register_first("before-call.ecs.StopServiceDeployment", stamp, unique_id="bench")
    latencies = []
    for run in range(runs):
        service = f"timed-{run}"
        desk.propose(service, first=10000 + 10 * run)
        value = desk.press.button(service, ButtonKind.APPROVE)
        before = len(reached)
        started = time.perf_counter()
        reply = desk.press(service, ButtonKind.APPROVE, value=value)
        assert reply.startswith("Done:") and len(reached) == before + 1, reply
        latencies.append((reached[-1] - started) * 1000)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=100)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    # stdout: the handlers' JSON logs. The cap: every timed run is one more action in the account's hour.
    with (
        contextlib.redirect_stdout(io.StringIO()),
        approving_through_slack(max_actions_per_hour=1000) as desk,
    ):
        latencies = request_to_ecs_call(desk, args.runs)  # the first press builds the desk (its clients)
        results, writes, wall = presses_of_one_proposal(desk, args.presses)
    warm = latencies[1:]
    print(f"{args.presses} presses of one proposal (8 threads): {dict(results)}; ECS writes {writes}; {wall:.2f} s")
    print(
        f"signed request -> StopServiceDeployment: median {statistics.median(warm):.0f} ms "
        f"(min {min(warm):.0f}, max {max(warm):.0f}, n={len(warm)} warm); first press (desk built) "
        f"{latencies[0]:.0f} ms"
    )


if __name__ == "__main__":
    main()
