"""What `ecs-watchdog classify` accepts: whatever an engineer has in hand, cut into one input per task.

- JSON documents of any layout: JSON lines, pretty-printed objects, several in a row, arrays of them;
- `aws ecs describe-tasks` output (`{"tasks": [...], "failures": [...]}`): one input per task, one error
  per failure;
- an EventBridge envelope or its `detail` (classify_envelope tells them apart);
- a plain stop-reason line as the console shows it (`CannotPullContainerError: ...`, optionally
  preceded by its stop code or `stoppedReason:`).

Blank lines are skipped. A document that does not parse is one error at the line it starts on; reading
resumes at the next line that starts a new document, so one broken object never turns into dozens of
errors. This module only reads: classification stays in `classify/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# The stop codes ECS documents (TaskStopCode in the botocore model, plus InfrastructureHealth).
STOP_CODES = (
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
    "InfrastructureHealth",
)
_PASTED = re.compile(
    r"^(?:(?:stopCode\s*[:=]\s*)?(?P<code>" + "|".join(STOP_CODES) + r")\b[\s:,;|-]*)?"
    r"(?:stoppedReason\s*[:=]\s*)?(?P<reason>.*)$",
    re.IGNORECASE,
)
# Fields of a task: an object with none of them is something else, said in one error, not field by field.
TASK_FIELDS = frozenset({"taskArn", "lastStatus", "stoppedReason", "stopCode", "containers"})
# A task ARN nobody will look up: a pasted line names no task.
PASTED_TASK_ARN = "(pasted)"


@dataclass(frozen=True)
class ClassifyInput:
    """One thing to classify (`raw`), or why a piece of the input cannot be (`error`), at `line` (from 1)."""

    line: int
    raw: dict[str, Any] | None = None
    error: str | None = None


def read_inputs(text: str) -> Iterator[ClassifyInput]:
    """Cut the whole input into things to classify, in order."""
    lines = text.splitlines()
    offsets, position = [], 0
    for line in text.splitlines(keepends=True):
        offsets.append(position)
        position += len(line)
    decoder = json.JSONDecoder()
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        number = index + 1
        if not stripped:
            index += 1
            continue
        if stripped[0] not in "{[":
            yield _text_line(number, stripped)
            index += 1
            continue
        start = offsets[index] + (len(lines[index]) - len(lines[index].lstrip()))
        try:
            document, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as error:
            yield ClassifyInput(number, error=f"not JSON: {error.msg} at line {error.lineno} column {error.colno}")
            index = _next_document(lines, index + 1)
            continue
        except RecursionError:
            yield ClassifyInput(number, error="not JSON: nested too deeply to read")
            index = _next_document(lines, index + 1)
            continue
        yield from _unwrap(number, document)
        end_line = text.count("\n", 0, end)  # the line (0-based) the document ends on
        rest = text[end : offsets[end_line + 1] if end_line + 1 < len(offsets) else len(text)]
        index = end_line + 1
        if rest.strip():
            # Something follows on the same line: a second document, or junk after the first.
            yield from read_inputs_tail(rest, end_line + 1)


def read_inputs_tail(rest: str, number: int) -> Iterator[ClassifyInput]:
    """What follows a document on its last line: more documents (`{...} {...}`) or one error."""
    decoder = json.JSONDecoder()
    position = 0
    while position < len(rest) and rest[position:].strip():
        position += len(rest[position:]) - len(rest[position:].lstrip())
        try:
            document, position = decoder.raw_decode(rest, position)
        except (json.JSONDecodeError, RecursionError):
            yield ClassifyInput(number, error=f"not JSON: unexpected text after a JSON document: {rest.strip()[:60]!r}")
            return
        yield from _unwrap(number, document)


def _next_document(lines: list[str], index: int) -> int:
    """The next line that can start a new input: text at column 0 that is not a closing bracket."""
    while index < len(lines):
        line = lines[index]
        if line.strip() and not line[0].isspace() and line[0] not in "}]":
            return index
        index += 1
    return index


def _unwrap(number: int, document: Any) -> Iterator[ClassifyInput]:
    """One input per task: arrays and describe-tasks output are opened; anything else is passed on."""
    if isinstance(document, list):
        if not document:
            yield ClassifyInput(number, error="expected a JSON object, got list")
        for item in document:
            yield from _unwrap(number, item)
        return
    if not isinstance(document, dict):
        yield ClassifyInput(number, error=f"expected a JSON object, got {type(document).__name__}")
        return
    if isinstance(document.get("tasks"), list) and "taskArn" not in document:
        for failure in document.get("failures") or []:
            arn = failure.get("arn", "?") if isinstance(failure, dict) else "?"
            reason = failure.get("reason", "?") if isinstance(failure, dict) else failure
            yield ClassifyInput(number, error=f"describe-tasks failure: {arn}: {reason}")
        if not document["tasks"] and not document.get("failures"):
            yield ClassifyInput(number, error="tasks: an empty list (describe-tasks found no task)")
        for task in document["tasks"]:
            yield from _unwrap(number, task)
        return
    if "detail-type" not in document and "taskArn" not in document and isinstance(document.get("detail"), dict):
        yield ClassifyInput(number, raw=document["detail"])  # an envelope trimmed of its detail-type
        return
    if not TASK_FIELDS & document.keys() and "detail-type" not in document:
        yield ClassifyInput(
            number,
            error="not a task: expected an ECS Task State Change envelope, its detail, or describe-tasks output "
            f"(no taskArn, lastStatus or stoppedReason; keys: {', '.join(sorted(document)[:6]) or 'none'})",
        )
        return
    yield ClassifyInput(number, raw=document)


def _text_line(number: int, text: str) -> ClassifyInput:
    """A line that is no JSON object: a stop reason, perhaps quoted as in JSON; a bare number is an error."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return _pasted_line(number, text)
    if isinstance(value, str):
        return _pasted_line(number, value.strip())
    return ClassifyInput(number, error=f"expected a JSON object, got {type(value).__name__}")


def _pasted_line(number: int, text: str) -> ClassifyInput:
    """A stop reason pasted as text: a STOPPED task with that reason (and its stop code when given)."""
    match = _PASTED.match(text)
    assert match is not None  # the pattern matches any line
    reason = match["reason"].strip()
    code = next((c for c in STOP_CODES if match["code"] and c.lower() == match["code"].lower()), None)
    if not reason and code is None:
        return ClassifyInput(number, error="nothing to classify: no stop reason on this line")
    detail: dict[str, Any] = {"taskArn": PASTED_TASK_ARN, "lastStatus": "STOPPED", "stoppedReason": reason or None}
    if code:
        detail["stopCode"] = code
    return ClassifyInput(number, raw=detail)
