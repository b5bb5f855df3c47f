"""Which Slack message is an incident's living message: one state-table item per incident.

Item `SLACKMSG#<incident id>` / `SLACKMSG` holds the channel id, the message `ts`, the opening
transition (so later edits keep its evidence) and the transitions that already have a thread reply.
It is created with a conditional put, first writer wins: a redelivered or racing opening finds the
winner's message and edits it instead of leaving a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ecs_watchdog.aws.slack_bot import PostedMessage
from ecs_watchdog.incidents.model import Transition

MESSAGE_TTL = timedelta(days=400)  # as long as the archived incident


@dataclass(frozen=True)
class LivingMessage:
    """An incident's Slack message and what it already says."""

    message: PostedMessage
    opening: Transition
    replies: frozenset[str]  # transition ids that have their thread reply (the opening counts as one)


def message_key(incident_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SLACKMSG#{incident_id}"}, "sk": {"S": "SLACKMSG"}}


class SlackMessages:
    """The living messages of incidents, in the watchdog's state table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def find(self, incident_id: str) -> LivingMessage | None:
        """The incident's message, read consistently; None before anyone posted it."""
        item = self._client.get_item(TableName=self._table, Key=message_key(incident_id), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return LivingMessage(
            message=PostedMessage(channel=item["channel"]["S"], ts=item["ts"]["S"]),
            opening=Transition.model_validate_json(item["opening"]["S"]),
            replies=frozenset(item.get("replies", {}).get("SS", [])),
        )

    def claim(self, opening: Transition, message: PostedMessage) -> LivingMessage:
        """Make `message` the incident's living message unless another writer did first; returns the winner."""
        incident_id = opening.incident.id
        expires = self.expires_at(opening.at)
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    **message_key(incident_id),
                    "channel": {"S": message.channel},
                    "ts": {"S": message.ts},
                    "opening": {"S": opening.model_dump_json(exclude={"lease_until", "lease_owner", "delivered"})},
                    "replies": {"SS": [opening.id]},
                    "expires_at": {"N": str(expires)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            winner = self.find(incident_id)
            if winner is None:  # the winner's item expired between our write and read: never in practice
                raise
            return winner
        return LivingMessage(message=message, opening=opening, replies=frozenset({opening.id}))

    def record_reply(self, incident_id: str, transition_id: str) -> None:
        """Remember that `transition_id` has its thread reply, so a redelivery does not reply again."""
        self._client.update_item(
            TableName=self._table,
            Key=message_key(incident_id),
            UpdateExpression="ADD replies :reply",
            ExpressionAttributeValues={":reply": {"SS": [transition_id]}},
        )

    def replace(self, incident_id: str, message: PostedMessage) -> None:
        """Point the incident at a new message (the old one was deleted by a person)."""
        self._client.update_item(
            TableName=self._table,
            Key=message_key(incident_id),
            UpdateExpression="SET channel = :channel, ts = :ts",
            ExpressionAttributeValues={":channel": {"S": message.channel}, ":ts": {"S": message.ts}},
        )

    @staticmethod
    def expires_at(opening_at: datetime) -> int:
        """When the item leaves the table (epoch seconds)."""
        return int((opening_at + MESSAGE_TTL).timestamp())
