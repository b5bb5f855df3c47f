"""How the state grows with the fleet: N services of one account fail together, recover and relapse.

    scripts/run.sh python scripts/bench_state_growth.py                    # 10, 100 and 1,000 services
    scripts/run.sh python scripts/bench_state_growth.py --services 100 500
    scripts/run.sh python scripts/bench_state_growth.py --services 2000 --accounts 20   # organization mode

With `--accounts N` (N > 1) the services are spread evenly over N member accounts of a hub, their
events interleaved across the accounts (one cause hitting them at once), each looked up through the
role the hub assumes there; the organization guard's item is one of the items measured.

Per phase: events, events/s, DynamoDB reads and writes per event (a botocore before-call hook on the
handler's session), messages per channel, the largest account item (`acct`), organization item (`org`)
and state item of any kind (bytes, DynamoDB's item-size rule: attribute names plus values). Runs the
real handler on moto in this process (x86 timings).
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


def largest_items(sandbox: LocalAccount) -> dict[str, tuple[int, str]]:
    """The largest item of the table ("all"), and of the guards' items (account, organization)."""
    dynamodb = sandbox.session.client("dynamodb")
    best = {"all": (0, ""), "ACCOUNT": (0, ""), "ORGANIZATION": (0, "")}
    for page in dynamodb.get_paginator("scan").paginate(TableName=sandbox.settings.state_table_name):
        for item in page["Items"]:
            sized = (item_bytes(item), item["pk"]["S"])
            kind = sized[1].split("#", 1)[0]
            best["all"] = max(best["all"], sized)
            if kind in best:
                best[kind] = max(best[kind], sized)
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
        largest = largest_items(sandbox)
        size, key = largest["all"]
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
                "account_item": largest["ACCOUNT"][0],
                "organization_item": largest["ORGANIZATION"][0],
            }
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--accounts", type=int, default=1, help="member accounts of a hub (1: one account, no hub)")
    args = parser.parse_args()
    print(
        f"{'accounts':>8} {'services':>8} {'phase':<17}{'events':>7}{'ev/s':>7}{'R/ev':>6}{'W/ev':>6}{'SNS':>5}"
        f"{'Slack':>6}{'failed':>7}{'acct':>8}{'org':>8}{'largest':>9}  item"
    )
    for services in args.services:
        observer = Observer()
        with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON logs
            phases = run_episode(services, observe=observer, accounts=args.accounts)
        for r in observer.rows:
            print(
                f"{args.accounts:>8} {services:>8} {r['phase']:<17}{r['events']:>7}{r['events_per_s']:>7.0f}"
                f"{r['reads']:>6.2f}{r['writes']:>6.2f}{r['sns']:>5}{r['slack']:>6}{r['failed']:>7}"
                f"{r['account_item']:>8}{r['organization_item']:>8}{r['largest']:>9}  {r['largest_key']}"
            )
        for phase in phases:
            for subject in phase.subjects:
                print(f"{'':>18}{phase.name}: {subject}")


if __name__ == "__main__":
    main()
