"""An incident opened and contained in one go is one message where a message cannot be edited (webhook,
email), and still each transition once where it can (the bot's living message) — issue 25."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_watchdog.announce.channels import SlackChannel, SnsChannel
from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.announce.render import SnsMessage
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from tests.fakes import RecordingChannel
from tests.unit.announce_fixtures import ENFORCED_ACTION, REF, transition

OPENED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
CONTAINED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.CONTAINED).model_copy(
    update={"action": ENFORCED_ACTION}
)


class Webhook:
    def __init__(self, fail: int = 0) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.fail = fail

    def post(self, payload: dict[str, Any]) -> None:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("HTTP 500 from the webhook")
        self.payloads.append(payload)


class Topic:
    def __init__(self) -> None:
        self.published: list[tuple[SnsMessage, dict[str, Any]]] = []

    def publish(self, message: SnsMessage, attributes: dict[str, Any] | None = None) -> str:
        self.published.append((message, attributes or {}))
        return "id"


def outbox(*channels: Any) -> Outbox:
    return Outbox(list(channels), clock=lambda: datetime(2025, 7, 21, 8, 10, tzinfo=UTC), lease=timedelta(minutes=5))


def test_webhook_and_email_get_one_message_that_says_opened_and_contained():
    webhook, topic = Webhook(), Topic()
    delivery = outbox(SnsChannel(topic), SlackChannel(webhook)).deliver_together(OPENED, CONTAINED, REF)
    assert delivery.channels == ["sns", "slack"]
    assert delivery.taken == {OPENED.id: {"sns", "slack"}, CONTAINED.id: {"sns", "slack"}}
    ((message, attributes),) = topic.published
    assert message.subject == "[ecs-watchdog] OPENED AND CONTAINED prod/api: Failing deployment (image)"
    assert "Evidence (verbatim):" in message.body  # what the opening knew
    assert "Did: scale to zero" in message.body  # what containment did
    assert attributes["transition"] == ["opened", "contained"] and attributes["severity"] == "high"
    (payload,) = webhook.payloads
    assert "OPENED AND CONTAINED" in payload["text"] and "OPENED AND CONTAINED" in payload["blocks"][1]["text"]["text"]


def test_a_channel_that_can_edit_gets_each_transition_opening_first():
    living = RecordingChannel("slack")  # no send_together: the bot edits its one message instead
    outbox(living).deliver_together(OPENED, CONTAINED, REF)
    assert [s.transition.id for s in living.sent] == [OPENED.id, CONTAINED.id]


def test_a_channel_that_already_took_the_opening_gets_only_the_containment():
    webhook = Webhook()
    told = OPENED.model_copy(update={"delivered": ["slack"]})
    outbox(SlackChannel(webhook)).deliver_together(told, CONTAINED, REF)
    (payload,) = webhook.payloads
    assert payload["text"].startswith(":shield: CONTAINED")


@pytest.mark.parametrize("fails", [1, 2])
def test_a_failed_combined_send_is_owed_whole_and_retried_as_one_message(fails):
    webhook = Webhook(fail=fails)
    box = outbox(SlackChannel(webhook))
    for _ in range(fails):
        failed = box.deliver_together(OPENED, CONTAINED, REF)
        assert failed.failed_ids == {OPENED.id, CONTAINED.id} and not webhook.payloads
    retried = box.deliver_together(OPENED, CONTAINED, REF)
    assert retried.taken == {OPENED.id: {"slack"}, CONTAINED.id: {"slack"}}
    assert len(webhook.payloads) == 1
