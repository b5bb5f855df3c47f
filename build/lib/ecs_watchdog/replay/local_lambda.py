"""Run a Lambda handler locally exactly as the SQS event source would invoke it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LocalLambdaContext:
    """The attributes of a Lambda context object that Powertools reads."""

    function_name: str = "ecs-watchdog-events"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:ecs-watchdog-events"
    memory_limit_in_mb: int = 256
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/ecs-watchdog-events"
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None
    _remaining_ms: int = field(default=60_000, repr=False)

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


def sqs_batch(
    bodies: list[str], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:ecs-watchdog-events", receive_count: int = 1
) -> dict:
    """An SQS event-source batch holding these message bodies (EventBridge envelopes as JSON text).

    `receive_count` > 1 marks a redelivery, as SQS does after a failed attempt."""
    records = []
    for index, body in enumerate(bodies):
        digest = hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()
        records.append(
            {
                "messageId": f"{digest[:8]}-{index:04d}-4000-8000-{digest[8:20]}",
                "receiptHandle": f"handle-{index}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": "0",
                    "SenderId": "AIDAEVENTBRIDGE",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": digest,
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
        )
    return {"Records": records}


def envelope_bodies(envelopes: list[dict[str, Any]]) -> list[str]:
    """EventBridge delivers each envelope to SQS as its JSON text."""
    return [json.dumps(e) for e in envelopes]
