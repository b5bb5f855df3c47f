"""`ecs-watchdog bench --smoke`: the benchmark runs end to end at tiny sizes (no timing is asserted)."""

from __future__ import annotations

import io
import json
import re
import sys

from ecs_watchdog.cli import main
from ecs_watchdog.replay.bench import PHASES

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_smoke_bench_prints_a_table_and_writes_every_measurement_as_json(tmp_path, monkeypatch):
    # Run as on a terminal, where the progress is drawn (stderr) and the table printed (stdout); a pipe
    # gets no progress at all (replay/progress.py's `wanted`, tests/unit/replay/test_progress.py).
    stdout, stderr = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(sys, "stderr", stderr)
    report_path = tmp_path / "bench.json"
    assert main(["bench", "--smoke", "--json", str(report_path)]) == 0
    printed = stdout.getvalue()
    drawn = ESCAPES.sub("", stderr.getvalue())
    for i, phase in enumerate(PHASES, 1):  # each phase its step, i of n
        assert f"{i} of {len(PHASES)}: {phase}" in drawn
    assert "1 of 5: per-event cost: seed-000-webhook-crash-loop" in drawn and " events, " in drawn  # and its rate
    assert "3 of 5: containment per seed: seed-000-webhook-crash-loop under " in drawn
    assert "ecs-watchdog bench" not in drawn and "\x1b[" not in printed  # the table is not mixed into it
    report = json.loads(report_path.read_text())
    assert report["smoke"] is True and "not Lambda arm64" in report["label"] and report["label"] in printed
    failures = report["per_event_kind"]["task stopped (failure)"]
    benign = report["per_event_kind"]["task stopped (benign)"]
    assert failures["events"] > 0 and failures["dynamodb_writes"] >= 1  # a failed stop is counted in one write
    assert benign["dynamodb_reads"] == benign["dynamodb_writes"] == 0  # a benign stop touches nothing
    cold = report["cold_start"]
    assert {"ecs_watchdog.handlers.ecs_events", "ecs_watchdog.handlers.diagnose"} <= set(cold)  # every entry module
    assert all(row["runs"] == 1 and row["import_ms"] > 0 for row in cold.values())
    assert cold["ecs_watchdog.handlers.ecs_events"]["init"] == "intake() built"
    # The yardstick is measured in the same run: each handler's import as a multiple of a bare import boto3.
    assert cold["boto3"]["import_ms"] > 0 and cold["ecs_watchdog.handlers.ecs_events"]["over_boto3"] > 0
    # And the floor beside it: the design card's packages alone, before any module of ours.
    assert cold["ecs_watchdog.replay.cold_start_floor"]["over_boto3"] > 0
    assert "a bare import boto3" in printed
    assert "note" in report["package"] or report["package"]["zipped_mb"] > 0
    storm = report["storm"]
    assert storm["events"] > 0 and storm["dynamodb_writes"] > 0 and set(storm["messages"]) <= {"sns", "slack"}
    (seed,) = report["containment_failed_tasks"].values()
    assert seed["circuit-breaker-best"] == "n/a" or isinstance(seed["circuit-breaker-best"], int)
    assert isinstance(seed["none"], int) and isinstance(seed["circuit-breaker"], int)
    assert isinstance(seed["circuit-breaker-count-1"], int)
    cost = report["monthly_cost"]
    assert cost["prices_as_of"] and cost["usd_per_month_total"] > 0
    assert set(cost["usd_per_month"]) >= {"lambda", "dynamodb", "sqs", "sns", "eventbridge", "cloudwatch_logs"}
    assert "failed tasks per seed" in printed and "monthly cost" in printed
