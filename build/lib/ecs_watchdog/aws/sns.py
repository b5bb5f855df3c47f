"""Publish rendered messages to the watchdog's SNS topic."""

from __future__ import annotations

from typing import Any

from ecs_watchdog.announce.render import SnsMessage


class SnsTopic:
    """The alerts topic; email and other subscribers hang off it."""

    def __init__(self, client: Any, topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def publish(self, message: SnsMessage, attributes: dict[str, str] | None = None) -> str:
        """Publish and return the SNS message id. Errors propagate so the event is retried."""
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Subject=message.subject,
            Message=message.body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in (attributes or {}).items()},
        )
        return str(response["MessageId"])
