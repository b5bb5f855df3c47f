"""Messages per channel and time per event when N services fail together, recover together and relapse.

    scripts/run.sh python scripts/bench_guard_storm.py            # 200 services
    scripts/run.sh python scripts/bench_guard_storm.py --services 50
    scripts/run.sh python scripts/bench_guard_storm.py --services 200 --accounts 4   # across a hub's members

Runs the real handler against moto in this process (timings are x86 here, not Lambda's arm64).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the episode lives beside the tests

from tests.integration.guard_storm import run_episode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=1, help="member accounts of a hub (1: one account, no hub)")
    args = parser.parse_args()
    with contextlib.redirect_stdout(io.StringIO()):  # the handler's JSON logs
        phases = run_episode(args.services, accounts=args.accounts)
    print(f"{args.services} services in {args.accounts} account(s); correlated_services=5, window 10 min")
    print(f"{'phase':<18}{'events':>8}{'ms/event':>10}{'SNS':>6}{'Slack':>7}{'failed':>8}")
    for p in phases:
        print(f"{p.name:<18}{p.events:>8}{p.ms_per_event:>10.2f}{p.sns:>6}{p.slack:>7}{p.failed_records:>8}")
        for subject in p.subjects:
            print(f"    {subject}")
    print(f"total messages: SNS {sum(p.sns for p in phases)}, Slack {sum(p.slack for p in phases)}")


if __name__ == "__main__":
    main()
