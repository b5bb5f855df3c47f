"""The answers a `before-call` hook hands back to botocore in place of a request: a parsed success or an ECS error.

Nothing here reaches the wire; botocore parses neither, so the watchdog sees them as it would see AWS's.
"""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSResponse

# What a `before-call` handler returns to short-circuit a request: the raw response and its parsed body.
HookAnswer = tuple[AWSResponse, dict[str, Any]]


def _metadata(status: int) -> dict[str, Any]:
    return {"RequestId": "replay-0000", "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


def ok(parsed: dict[str, Any]) -> HookAnswer:
    """A 200 answer carrying `parsed` as the operation's result."""
    return AWSResponse("https://ecs.replay.invalid/", 200, {}, None), {
        **parsed,
        "ResponseMetadata": _metadata(200),
    }


def error(code: str, message: str) -> HookAnswer:
    """A 400 answer botocore raises as `ClientError` with this code and message."""
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": _metadata(400)}
    return AWSResponse("https://ecs.replay.invalid/", 400, {}, None), parsed
