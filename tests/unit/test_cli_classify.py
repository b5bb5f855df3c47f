"""The `ecs-watchdog classify` contract: one JSON line out per line in, errors in place, exit 1."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from ecs_watchdog.cli import classify_lines, main
from tests.conftest import load_event

REQUIRED = {"category", "failure", "rule", "summary", "evidence", "next_steps"}


def run(lines: list[str]) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = classify_lines(io.StringIO("\n".join(lines) + "\n"), out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_envelopes_and_bare_details_are_both_classified():
    envelope = load_event("task_state_change_stopped")
    status, results = run([json.dumps(envelope), json.dumps(envelope["detail"])])
    assert status == 0
    assert [r["category"] for r in results] == ["user", "user"]
    assert all(set(r) >= REQUIRED for r in results)
    assert results[0]["failure"] is False


def test_malformed_lines_keep_alignment_and_set_exit_status_one():
    good = json.dumps(
        {
            "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t",
            "lastStatus": "STOPPED",
            "stopCode": "TaskFailedToStart",
            "stoppedReason": "CannotPullContainerError: manifest unknown",
        }
    )
    status, results = run([good, "{not json", json.dumps({"lastStatus": "STOPPED"}), good])
    assert status == 1
    assert results[0]["category"] == "image" and results[3]["category"] == "image"
    assert results[1]["line"] == 2 and "not JSON" in results[1]["error"]
    assert results[2] == {"error": "taskArn: Field required", "line": 3}


def test_the_console_script_reads_stdin_and_files(tmp_path, capsys):
    event = json.dumps(load_event("task_state_change_stopped"))
    # One real process for what only a process shows: stdin read through the pipe, the exit status.
    piped = subprocess.run(
        [sys.executable, "-m", "ecs_watchdog.cli", "classify", "-"],
        input=f"{event}\n[]\n",
        capture_output=True,
        text=True,
        check=False,
    )
    first, second = (json.loads(line) for line in piped.stdout.splitlines())
    assert piped.returncode == 1 and first["rule"] == "user-initiated"
    assert second == {"error": "expected a JSON object, got list", "line": 2}
    events = tmp_path / "events.jsonl"
    events.write_text(event + "\n")
    assert main(["classify", str(events)]) == 0
    assert json.loads(capsys.readouterr().out)["rule"] == "user-initiated"


def test_a_missing_file_is_a_usage_error(tmp_path, capsys):
    assert main(["classify", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err
