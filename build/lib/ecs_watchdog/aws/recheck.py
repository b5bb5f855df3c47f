"""The deployment gate's timer: put a message back on the events queue to decide a hook again later.

An SQS delay is the timer (at most 15 minutes): a PAUSE hook that is still undecided is re-queued,
delay after delay, until the decision is made or the watchdog lets it continue before `expiresAt`.
No scheduler to create or clean up, and the re-decision arrives through the same queue, retries and
DLQ as every other event.
"""

from __future__ import annotations

from typing import Any

MAX_DELAY_SECONDS = 900  # SQS DelaySeconds: 0..900


class Rechecks:
    """Sends a body to the events queue, delivered after `delay_seconds`."""

    def __init__(self, sqs_client: Any, queue_url: str) -> None:
        self._client = sqs_client
        self._queue_url = queue_url

    def later(self, body: str, delay_seconds: int) -> str:
        """Queue `body` to come back in `delay_seconds`, clamped to 0..900 (SQS's limits); returns the
        message id. A longer wait is made of several: the consumer re-queues until its deadline."""
        delay = max(0, min(int(delay_seconds), MAX_DELAY_SECONDS))
        response = self._client.send_message(QueueUrl=self._queue_url, MessageBody=body, DelaySeconds=delay)
        return str(response["MessageId"])
