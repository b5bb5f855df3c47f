"""`ecs-watchdog replay`: argparse wiring for scenario replays and recorded-event replays.

    ecs-watchdog replay                                  # every seed scenario x every policy: one table
    ecs-watchdog replay scenarios/seed-002-*.json --policy none --policy watchdog
    ecs-watchdog replay scenarios/benign-scale-in.json --policy watchdog --json
    ecs-watchdog replay --events archive.jsonl           # real events, watchdog in dry-run
    ecs-watchdog replay scenarios/seed-*.json --batching-window 5   # a 5-second window (the stack's is 0)

Exit status: 0 on success, 2 for a bad scenario or events file (the error names file, key and hint),
1 when a watchdog policy is asked for but the watchdog cannot be built.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from ecs_watchdog.replay.policies import POLICIES
from ecs_watchdog.replay.progress import wanted
from ecs_watchdog.replay.scenario import SCENARIO_DIR, Scenario, ScenarioError, load_scenario
from ecs_watchdog.replay.seam import WatchdogFactory

SEED_PATTERN = "seed-*.json"


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the replay command's arguments to `parser`."""
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help="scenario files (.json/.yaml) or folders of them; default: every seed scenario in scenarios/",
    )
    parser.add_argument(
        "--policy",
        action="append",
        choices=POLICIES,
        dest="policies",
        help="policy to replay under (repeatable); default: all of " + ", ".join(POLICIES),
    )
    parser.add_argument("--json", action="store_true", help="print the result contract as JSON")
    parser.add_argument(
        "--delivery-delay",
        type=_seconds,
        metavar="SECONDS",
        help="EventBridge to SQS, in place of each scenario's delivery.eventbridge_to_sqs_seconds",
    )
    parser.add_argument(
        "--batching-window",
        type=_seconds,
        metavar="SECONDS",
        help="the SQS event source's batching window (watchdog:batching_window_seconds), in place of the scenario's",
    )
    parser.add_argument(
        "--batch-size",
        type=_batch_size,
        metavar="N",
        help="records per invocation, 1-10 (watchdog:batch_size), in place of the scenario's",
    )
    parser.add_argument(
        "--events",
        metavar="FILE.jsonl",
        help="replay captured EventBridge envelopes (one per line) through the watchdog in dry-run",
    )


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 300:
        raise argparse.ArgumentTypeError(f"{text}: seconds from 0 to 300")
    return value


def _batch_size(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"{text}: a batch holds 1 to 10 records")
    return value


def with_delivery(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """The scenario with the delivery the command line asks for in place of its own."""
    asked = {
        "eventbridge_to_sqs_seconds": getattr(args, "delivery_delay", None),
        "batching_window_seconds": getattr(args, "batching_window", None),
        "batch_size": getattr(args, "batch_size", None),
    }
    changes = {k: v for k, v in asked.items() if v is not None}
    return replace(scenario, delivery=replace(scenario.delivery, **changes)) if changes else scenario


def scenario_paths(arguments: list[str]) -> list[Path]:
    """Files named, folders expanded (schema.json skipped), or the seed scenarios when none are named."""
    if not arguments:
        return sorted(SCENARIO_DIR.glob(SEED_PATTERN))
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            paths += sorted(
                p for p in path.iterdir() if p.suffix in (".json", ".yaml", ".yml") and p.name != "schema.json"
            )
        else:
            paths.append(path)
    return paths


def run_replay(
    args: argparse.Namespace, out: TextIO | None = None, watchdog_factory: WatchdogFactory | None = None
) -> int:
    """Run the replay the parsed arguments ask for; print results to `out`; return the exit status."""
    # The sandbox (moto) loads here, not when the command line is parsed: `classify` starts without it.
    from ecs_watchdog.replay.progress import run_scenarios
    from ecs_watchdog.replay.recorded import replay_recorded
    from ecs_watchdog.replay.report import render_comparison, render_recorded, render_result

    out = out or sys.stdout
    try:
        if args.events:
            recorded = replay_recorded(args.events, watchdog_factory)
            out.write((json.dumps(recorded, indent=2) if args.json else render_recorded(recorded)) + "\n")
            return 0
        scenarios = [with_delivery(load_scenario(p), args) for p in scenario_paths(args.scenarios)]
        policies = args.policies or list(POLICIES)
        runs = [(scenario, policy) for scenario in scenarios for policy in policies]
        results = run_scenarios(runs, watchdog_factory, show=wanted(out, args.json))
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"error: the watchdog policies need the watchdog adapter ({exc})", file=sys.stderr)
        return 1
    if args.json:
        out.write(json.dumps(results[0] if len(results) == 1 else results, indent=2) + "\n")
    elif len(results) == 1:
        out.write(render_result(results[0]) + "\n")
    else:
        out.write(render_comparison(results) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m ecs_watchdog.replay.command ...`."""
    parser = argparse.ArgumentParser(prog="ecs-watchdog replay", description=__doc__.splitlines()[0])
    add_replay_arguments(parser)
    return run_replay(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
