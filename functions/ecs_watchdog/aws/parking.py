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
    """SendMessage to the events DLQ. Errors propagate: the record is then retried the usual way."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def park(self, body: str, reason: str, message_id: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=sqs_text(body),
            MessageAttributes={
                REASON_ATTRIBUTE: {"DataType": "String", "StringValue": sqs_text(reason[:1000]) or "unknown"},
                MESSAGE_ID_ATTRIBUTE: {"DataType": "String", "StringValue": sqs_text(message_id) or "unknown"},
            },
        )


def sqs_text(text: str) -> str:
    """`text` with what SQS refuses replaced by U+FFFD: it takes #x9, #xA, #xD, #x20-#xD7FF,
    #xE000-#xFFFD and #x10000-#x10FFFF only (lone surrogates included in the refused)."""
    if all(ch in "\t\n\r" or " " <= ch <= "\ud7ff" for ch in text):
        return text  # the common case: nothing to look at twice
    return "".join(ch if _sqs_allows(ch) else "\ufffd" for ch in text)


def _sqs_allows(ch: str) -> bool:
    code = ord(ch)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000
