"""`ecs-watchdog demo`: every seed incident under five policies, then what people would have been told.

The four: no watchdog, the native circuit breaker (as configured and at its best tuning) and the
watchdog enforcing. The dry-run watchdog replays every one of seed 001's 7,560 failures (about two
minutes on its own), so the demo leaves it to `ecs-watchdog replay --policy watchdog-dry-run` and says
so at the end. The watchdog runs the real Lambda handler on the simulator's events, with AWS served by
moto in-process and Slack by a local endpoint on 127.0.0.1: nothing leaves this machine.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ecs_watchdog.replay.command import SCENARIO_DIR, SEED_PATTERN
from ecs_watchdog.replay.progress import run_scenarios, wanted
from ecs_watchdog.replay.report import render_comparison
from ecs_watchdog.replay.scenario import load_scenario

SHOWCASE = "seed-002-ava-olo-stuck-deployments"  # the image tag that was never pushed
DEMO_POLICIES = ("none", "circuit-breaker", "circuit-breaker-best", "circuit-breaker-count-1", "watchdog")


def run(out: TextIO) -> int:
    """Print the comparison table and the exact messages of one seed; 0 when the watchdog named the
    right cause of every seed incident."""
    scenarios = [load_scenario(p) for p in sorted(SCENARIO_DIR.glob(SEED_PATTERN))]
    if not scenarios:  # the wheel and a clone both hold them: a broken install or a partial checkout
        print(
            f"ecs-watchdog demo: no seed scenarios in {SCENARIO_DIR}: reinstall ecs-watchdog (its package "
            "ships them) or run from a clone of the repository (make demo)",
            file=sys.stderr,
        )
        return 2
    out.write(
        f"Replaying {len(scenarios)} seed incidents under {len(DEMO_POLICIES)} policies "
        f"({', '.join(DEMO_POLICIES)}) ...\n\n"
    )
    out.flush()
    runs = [(scenario, policy) for scenario in scenarios for policy in DEMO_POLICIES]
    results = run_scenarios(runs, show=wanted(out))
    out.write(render_comparison(results) + "\n\n")
    showcase = next(r for r in results if r["scenario"] == SHOWCASE and r["policy"] == "watchdog")
    _show_messages(showcase, out)
    out.write(
        "\nThe same seeds under the dry-run watchdog (the default deployment mode: it tells people and acts on\n"
        "nothing; about two minutes more): ecs-watchdog replay --policy watchdog-dry-run\n"
    )
    verdicts = [s["right_cause"] for r in results if r["policy"] == "watchdog" for s in r["services"].values()]
    return 0 if verdicts and all(v is not False for v in verdicts) else 1


def _show_messages(result: dict[str, Any], out: TextIO) -> None:
    sns = [n for n in result["notifications"] if n["channel"] == "sns"]
    slack = [n for n in result["notifications"] if n["channel"] == "slack"]
    out.write(
        f"== What people were told in {result['scenario']} (policy watchdog): "
        f"{len(sns)} email/SNS and {len(slack)} Slack messages, for "
        f"{sum(s['failed_tasks_total'] for s in result['services'].values())} failed tasks ==\n\n"
    )
    if sns:
        subject, _, body = sns[0]["text"].partition("\n")
        out.write(f"-- SNS notification at minute {sns[0]['minute']} (exactly as delivered) --\n")
        out.write(f"Subject: {subject}\n{body}\n\n")
    if slack:
        out.write(f"-- Slack webhook payload at minute {slack[0]['minute']} (exactly as posted) --\n")
        out.write(json.dumps(json.loads(slack[0]["text"]), indent=2, ensure_ascii=False) + "\n")
