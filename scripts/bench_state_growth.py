"""How the state grows with the fleet: N services of one account fail together, recover and relapse.

    scripts/run.sh python scripts/bench_state_growth.py                    # 10, 100 and 1,000 services
    scripts/run.sh python scripts/bench_state_growth.py --services 100 500

Per phase: events, events/s, DynamoDB reads and writes per event (a botocore before-call hook on the
handler's session), messages per channel, and the largest state item (bytes, DynamoDB's item-size
rule: attribute names plus values). Runs the real handler on moto in this process (x86 timings).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the episode lives beside the tests

from ecs_watchdog.replay.bench import dynamodb_ops
from ecs_watchdog.replay.sandbox import LocalAccount
from tests.integration.guard_storm import Phase, run_episode


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: UTF-8 names plus values (strings, numbers as their text)."""
    size = 0
    for name, value in item.items():
        ((_, raw),) = value.items()
        size += len(name.encode()) + len(str(raw).encode())
    return size


def largest_item(sandbox: LocalAccount) -> tuple[int, str]:
    dynamodb = sandbox.session.client("dynamodb")
    best = (0, "")
    for page in dynamodb.get_paginator("scan").paginate(TableName=sandbox.settings.state_table_name):
        for item in page["Items"]:
            best = max(best, (item_bytes(item), item["pk"]["S"]))
    return best


class Observer:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.rows: list[dict[str, Any]] = []

    def hook(self, event_name: str, **_: Any) -> None:
        self.calls[".".join(event_name.split(".")[1:3])] += 1

    def __call__(self, sandbox: LocalAccount, phase: Phase) -> None:
        if phase.name == "setup":
            sandbox.session.events.register("before-call.dynamodb", self.hook)
            self.calls.clear()
            return
        reads, writes = dynamodb_ops(self.calls)
        self.calls.clear()
        size, key = largest_item(sandbox)
        self.rows.append(
            {
                "phase": phase.name,
                "events": phase.events,
                "events_per_s": phase.events / max(phase.seconds, 1e-9),
                "reads": reads / max(1, phase.events),
                "writes": writes / max(1, phase.events),
                "sns": phase.sns,
                "slack": phase.slack,
                "failed": phase.failed_records,
                "largest": size,
                "largest_key": key,
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(
        f"{'services':>8} {'phase':<17}{'events':>7}{'ev/s':>7}{'R/ev':>6}{'W/ev':>6}{'SNS':>5}{'Slack':>6}"
        f"{'failed':>7}{'largest':>9}  item"
    )
    for services in args.services:
        observer = Observer()
        with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON logs
            run_episode(services, observe=observer)
        for r in observer.rows:
            print(
                f"{services:>8} {r['phase']:<17}{r['events']:>7}{r['events_per_s']:>7.0f}{r['reads']:>6.2f}"
                f"{r['writes']:>6.2f}{r['sns']:>5}{r['slack']:>6}{r['failed']:>7}{r['largest']:>9}  {r['largest_key']}"
            )


if __name__ == "__main__":
    main()
