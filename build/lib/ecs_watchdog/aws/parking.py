"""Park records that can never succeed on the events dead-letter queue, with the reason attached.

Retrying a malformed or unstorable record only spends the queue's receives (and raises the errors
alarm five times); parking it at once keeps it where operators look, with the reason as a message
attribute. A redrive of a parked message needs an explicit destination (the events queue): SQS
"redrive to source" only knows messages it moved itself (docs/parked-records.md).
"""

from __future__ import annotations

from typing import Any

REASON_ATTRIBUTE = "ecs-watchdog-parked-reason"
MESSAGE_ID_ATTRIBUTE = "ecs-watchdog-original-message-id"


class ParkedRecords:
    """SendMessage to the events DLQ (the intake hands it text SQS accepts, flow/sqs_text.py). Errors
    propagate: the record is then retried the usual way."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def park(self, body: str, reason: str, message_id: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=body,
            MessageAttributes={
                REASON_ATTRIBUTE: {"DataType": "String", "StringValue": reason[:1000] or "unknown"},
                MESSAGE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": message_id or "unknown"},
            },
        )
