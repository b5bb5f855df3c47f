"""`ecs-watchdog classify` takes what an engineer has in hand: a pasted stop reason, pretty-printed or
concatenated JSON, arrays, `aws ecs describe-tasks` output, envelopes or their detail; blank lines are
skipped and each bad input is one error line with the line it starts on."""

from __future__ import annotations

import io
import json

from ecs_watchdog.cli import classify_lines
from tests.conftest import load_event

STOPPED_TASK = {
    "taskArn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/0123456789abcdef",
    "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/prod",
    "group": "service:api",
    "lastStatus": "STOPPED",
    "stopCode": "TaskFailedToStart",
    "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    "ref 111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:v9: not found",
    # describe-tasks (AWS CLI v2) prints times as ISO 8601 with an offset; CLI v1 as epoch seconds.
    "stoppedAt": "2026-11-30T10:00:00.123000+00:00",
    "startedAt": 1764496700.5,
    "containers": [
        {"name": "api", "lastStatus": "STOPPED", "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/api:v9"}
    ],
}


def classify(text: str) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = classify_lines(io.StringIO(text), out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_pasted_stop_reason_line_is_classified():
    status, results = classify(
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        "failed to resolve ref 1.dkr.ecr.us-east-1.amazonaws.com/api:v2: not found\n"
    )
    assert status == 0
    assert results[0]["category"] == "image" and results[0]["image"] == "1.dkr.ecr.us-east-1.amazonaws.com/api:v2"


def test_a_pasted_line_may_carry_its_stop_code_or_be_quoted():
    status, results = classify(
        'UserInitiated: Task stopped by user\n"OutOfMemoryError: Container killed due to memory usage"\n'
    )
    assert status == 0
    assert [r["category"] for r in results] == ["user", "oom"]
    # A pasted line names no region: its console links open the console's own host, never "https://.console".
    assert "https://.console" not in json.dumps(results) and "https://console.aws.amazon.com/" in json.dumps(results)


def test_a_pretty_printed_object_is_one_input_not_one_error_per_line():
    status, results = classify(json.dumps(load_event("task_state_change_stopped"), indent=2) + "\n")
    assert status == 0 and len(results) == 1 and results[0]["rule"] == "user-initiated"


def test_describe_tasks_output_gives_one_result_per_task_and_one_error_per_failure():
    output = {
        "tasks": [STOPPED_TASK, {**STOPPED_TASK, "stopCode": "UserInitiated", "stoppedReason": "Task stopped by user"}],
        "failures": [{"arn": "arn:aws:ecs:eu-west-1:111122223333:task/prod/gone", "reason": "MISSING"}],
    }
    status, results = classify(json.dumps(output, indent=4))
    assert status == 1
    assert results[0] == {
        "error": "describe-tasks failure: arn:aws:ecs:eu-west-1:111122223333:task/prod/gone: MISSING",
        "line": 1,
    }
    assert [r["category"] for r in results[1:]] == ["image", "user"]


def test_arrays_and_several_documents_in_a_row_are_each_classified():
    envelope = load_event("task_state_change_stopped")
    text = json.dumps([STOPPED_TASK, envelope]) + "\n" + json.dumps(envelope["detail"]) + " " + json.dumps(STOPPED_TASK)
    status, results = classify(text)
    assert status == 0
    assert [r["category"] for r in results] == ["image", "user", "user", "image"]


def test_blank_lines_are_skipped_and_errors_name_the_line_the_input_starts_on():
    broken = '{\n  "taskArn": "arn:aws:ecs:us-east-1:1:task/c/t",\n  "lastStatus": \n}\n'
    text = "\n   \n" + broken + "\n" + json.dumps(STOPPED_TASK) + "\n42\n" + json.dumps({"hello": "world"}) + "\n"
    status, results = classify(text)
    assert status == 1
    assert len(results) == 4  # one error for the broken object, not one per line of it
    assert results[0]["line"] == 3 and results[0]["error"].startswith("not JSON")
    assert results[1]["category"] == "image"
    assert results[2] == {"error": "expected a JSON object, got int", "line": 9}
    assert results[3]["line"] == 10 and results[3]["error"].startswith("not a task")


def test_an_envelope_without_its_detail_type_is_read_as_its_detail():
    status, results = classify(json.dumps({"detail": STOPPED_TASK}) + "\n")
    assert status == 0 and results[0]["category"] == "image"
