"""Benchmark the replay: events per second for a scenario under each policy (default: the 10,000-stop storm).

    .venv/bin/python scripts/bench_replay.py                       # storm, policies none + watchdog-dry-run
    .venv/bin/python scripts/bench_replay.py scenarios/seed-001-*.json --policy none

The watchdog policies use the real watchdog (ecs_watchdog.replay.watchdog_adapter.make_watchdog); with
`--null-watchdog` they use one that only reads (DescribeServices on each failed stop), which measures the
simulator and the moto mirror alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from ecs_watchdog.replay.runner import POLICIES, run_scenario
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.seam import SentMessage, WatchdogFactory

STORM = Path(__file__).resolve().parents[1] / "scenarios" / "storm-20-services.json"


class ReadOnlyWatchdog:
    """Reads the service on every failed stop, as a watchdog would, and never acts."""

    def __init__(self, session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> None:
        self.ecs = session.client("ecs")

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        for envelope in envelopes:
            detail = envelope["detail"]
            if envelope["detail-type"] == "ECS Task State Change" and detail["lastStatus"] == "STOPPED":
                self.ecs.describe_services(cluster=detail["clusterArn"], services=[detail["group"][8:]])

    def messages(self) -> list[SentMessage]:
        return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(STORM))
    parser.add_argument("--policy", action="append", choices=POLICIES, dest="policies")
    parser.add_argument("--null-watchdog", action="store_true", help="use a read-only stand-in watchdog")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario)
    factory: WatchdogFactory | None = ReadOnlyWatchdog if args.null_watchdog else None
    print(f"{scenario.name}: {len(scenario.services)} services, horizon {scenario.horizon_minutes:g} min")
    for policy in args.policies or ["none", "watchdog-dry-run"]:
        started = time.perf_counter()
        result = run_scenario(scenario, policy, factory)
        elapsed = time.perf_counter() - started
        events = result["events"]["total"]
        failed = sum(s["failed_tasks_total"] for s in result["services"].values())
        print(
            f"  {policy:<17} {events:>7} events  {failed:>6} failed tasks  {elapsed:7.2f} s  "
            f"{events / elapsed:9.0f} events/s  {len(result['notifications'])} messages"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
