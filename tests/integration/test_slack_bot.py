"""Slack bot mode against a local Web API on 127.0.0.1 and a moto state table: one living message per
incident, edited in place with a thread reply per transition, under redelivery, races and Slack's bad minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecs_watchdog.announce.channels import ChannelDown, ChannelUnavailable, SlackBotChannel
from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.aws.slack import SlackDeliveryError, SlackDown, SlackUnavailable
from ecs_watchdog.aws.slack_bot import SlackBot, SlackMessageGone, bot_token_from_secret
from ecs_watchdog.aws.slack_messages import LivingMessage, SlackMessages
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from tests.fakes import T0, RecordingChannel
from tests.integration.fake_slack import CHANNEL_ID, FakeSlack, Reply, fake_slack
from tests.unit.announce_fixtures import REF, transition

TOKEN = "xoxb-1111-2222-secret"
OPENED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
RESOLVED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.RESOLVED)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def channel(slack: FakeSlack, messages: SlackMessages, sleeps: Sleeps | None = None) -> SlackBotChannel:
    bot = SlackBot(
        lambda: TOKEN,
        "#alerts",
        base_url=slack.api_base_url,
        timeout_seconds=0.2,
        sleep=sleeps if sleeps is not None else Sleeps(),
    )
    return SlackBotChannel(bot, messages, unavailable=(SlackUnavailable,), gone=(SlackMessageGone,), down=(SlackDown,))


def methods(slack: FakeSlack) -> list[str]:
    return [r["path"].rsplit("/", 1)[-1] for r in slack.requests]


def test_the_opening_posts_one_message_with_the_token_and_remembers_it(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        channel(slack, messages).send(OPENED, REF)
    (request,) = slack.requests
    assert request["path"] == "/api/chat.postMessage"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["body"]["channel"] == "#alerts" and request["body"]["blocks"][0]["type"] == "header"
    stored = messages.find(OPENED.incident.id)
    assert stored is not None and stored.message.channel == CHANNEL_ID and stored.replies == {OPENED.id}


def test_a_later_transition_edits_the_message_in_place_and_replies_in_its_thread(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        bot_channel = channel(slack, messages)
        bot_channel.send(OPENED, REF)
        bot_channel.send(RESOLVED, REF)
    assert methods(slack) == ["chat.postMessage", "chat.update", "chat.postMessage"]
    ts = messages.find(OPENED.incident.id).message.ts  # type: ignore[union-attr]
    update, reply = slack.requests[1]["body"], slack.requests[2]["body"]
    assert update["ts"] == ts and update["channel"] == CHANNEL_ID
    assert "RESOLVED" in update["blocks"][1]["text"]["text"]
    assert any("Evidence" in b.get("text", {}).get("text", "") for b in update["blocks"])  # the opening's, kept
    assert reply["thread_ts"] == ts and "RESOLVED" in reply["text"]


def test_redelivery_keeps_one_message_and_one_reply_per_transition(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        bot_channel = channel(slack, messages)
        for delivery in (OPENED, OPENED, RESOLVED, RESOLVED, OPENED):
            bot_channel.send(delivery, REF)
    top_level = [r for r in slack.requests if r["path"].endswith("postMessage") and "thread_ts" not in r["body"]]
    replies = [r for r in slack.requests if "thread_ts" in r["body"]]
    assert len(top_level) == 1 and len(replies) == 1  # only RESOLVED replied, once


class ReadBeforeTheWinnerClaimed(SlackMessages):
    """A store whose first read happened before the other writer's claim landed."""

    def __init__(self, inner: SlackMessages) -> None:
        self.__dict__.update(inner.__dict__)
        self.misses = 1

    def find(self, incident_id: str) -> LivingMessage | None:
        if self.misses:
            self.misses -= 1
            return None
        return super().find(incident_id)


def test_a_racing_writer_that_loses_deletes_its_message_and_edits_the_winners(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        winner = SlackBot(lambda: TOKEN, "#alerts", base_url=slack.api_base_url).post({"text": "first"})
        messages.claim(OPENED, winner)
        channel(slack, ReadBeforeTheWinnerClaimed(messages)).send(OPENED, REF)
    assert methods(slack) == ["chat.postMessage", "chat.postMessage", "chat.delete", "chat.update"]
    assert slack.requests[2]["body"]["ts"] == "1753085000.000002"  # its own message, deleted
    assert slack.requests[3]["body"]["ts"] == winner.ts
    assert not any("thread_ts" in r["body"] for r in slack.requests)  # same transition: no reply


def test_a_message_a_person_deleted_is_posted_again_and_remembered(messages: SlackMessages) -> None:
    gone = Reply(200, body={"ok": False, "error": "message_not_found"})
    with fake_slack(Reply(200), gone, Reply(200)) as slack:
        bot_channel = channel(slack, messages)
        bot_channel.send(OPENED, REF)
        bot_channel.send(RESOLVED, REF)
    assert methods(slack) == ["chat.postMessage", "chat.update", "chat.postMessage", "chat.postMessage"]
    assert messages.find(OPENED.incident.id).message.ts == "1753085000.000003"  # type: ignore[union-attr]


def test_a_count_update_goes_to_the_thread(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        bot_channel = channel(slack, messages)
        assert not bot_channel.send_update(OPENED.incident, REF, OPENED.at + timedelta(minutes=5))
        bot_channel.send(OPENED, REF)
        assert bot_channel.send_update(OPENED.incident, REF, OPENED.at + timedelta(minutes=75))
    update = slack.requests[-1]["body"]
    assert update["thread_ts"] == slack.requests[0]["body"].get("ts", update["thread_ts"])
    assert "3 failed tasks since 2025-07-21 08:03 UTC (1 h 15 min)" in update["text"]


def test_a_429_waits_retry_after_and_delivers(messages: SlackMessages) -> None:
    sleeps = Sleeps()
    limited = Reply(429, headers={"Retry-After": "3"}, body={"ok": False, "error": "ratelimited"})
    with fake_slack(limited, Reply(200)) as slack:
        channel(slack, messages, sleeps).send(OPENED, REF)
    assert sleeps == [3.0] and len(slack.requests) == 2
    assert messages.find(OPENED.incident.id) is not None


def test_server_errors_fail_the_delivery_after_retries_and_store_nothing(messages: SlackMessages) -> None:
    failing = Reply(500, body={"ok": False, "error": "fatal_error"})
    with fake_slack(failing) as slack, pytest.raises(SlackDeliveryError, match="HTTP 500"):
        channel(slack, messages).send(OPENED, REF)
    assert len(slack.requests) == 3 and messages.find(OPENED.incident.id) is None


def test_a_timeout_makes_the_channel_down_and_stores_nothing(messages: SlackMessages) -> None:
    with fake_slack(Reply(hang=True)) as slack, pytest.raises(ChannelDown, match="did not answer"):
        channel(slack, messages).send(OPENED, REF)
    assert messages.find(OPENED.incident.id) is None


def test_rate_limited_after_the_retry_makes_the_channel_down(messages: SlackMessages) -> None:
    limited = Reply(429, headers={"Retry-After": "1"}, body={"ok": False, "error": "ratelimited"})
    with fake_slack(limited) as slack, pytest.raises(ChannelDown, match="429"):
        channel(slack, messages).send(OPENED, REF)
    assert len(slack.requests) == 2


def test_a_bot_that_gets_no_answer_is_tried_once_for_a_batch_and_posts_each_message_once_later(
    messages: SlackMessages,
) -> None:
    incidents = [OPENED.incident.model_copy(update={"id": f"{OPENED.incident.id}-{n}"}) for n in range(10)]
    openings = [OPENED.model_copy(update={"id": f"{i.id}/2-opened", "incident": i}) for i in incidents]
    sns = RecordingChannel("sns")
    with fake_slack(Reply(hang=True)) as slack:
        outbox = Outbox([sns, channel(slack, messages)], clock=lambda: T0, lease=timedelta(seconds=90))
        first = [outbox.deliver(t, REF) for t in openings]
        assert len(slack.wait_for_requests(1)) == 1  # one timeout for the batch, not one per message
        assert [d.deferred for d in first] == [["slack"]] * 10 and len(sns.sent) == 10
        slack.answer_from_now(Reply(200))
        outbox.budget.begin(None)  # the next invocation; each opening waited without Slack
        later = [outbox.deliver(t.model_copy(update={"delivered": ["sns"]}), REF) for t in openings]
    assert [d.channels for d in later] == [["slack"]] * 10
    assert methods(slack)[1:] == ["chat.postMessage"] * 10  # one living message per incident
    assert all(messages.find(t.incident.id) is not None for t in openings)


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found", "not_in_channel", "missing_scope"])
def test_a_refused_token_or_channel_makes_the_channel_unavailable(messages: SlackMessages, error: str) -> None:
    refused = Reply(200, body={"ok": False, "error": error})
    with fake_slack(refused) as slack, pytest.raises(ChannelUnavailable, match=error):
        channel(slack, messages).send(OPENED, REF)
    assert len(slack.requests) == 1


def test_the_token_never_appears_in_an_error() -> None:
    assert bot_token_from_secret('{"bot_token": "xoxb-1111-2222-abcd"}') == "xoxb-1111-2222-abcd"
    with pytest.raises(SlackUnavailable) as raised:
        bot_token_from_secret("https://hooks.slack.com/services/T/B/secret")
    assert "secret" not in str(raised.value).replace("bot secret", "")


def test_a_click_redraws_the_living_message_in_place_naming_who_answered(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        bot_channel = channel(slack, messages)
        bot_channel.send(OPENED, REF)
        acknowledged = OPENED.incident.model_copy(
            update={"acknowledged": {"user_id": "U0BOB0002", "user_name": "bob", "at": "2025-07-21T08:10:00+00:00"}}
        )
        assert bot_channel.refresh(acknowledged, REF)
    assert methods(slack) == ["chat.postMessage", "chat.update"]  # edited, no thread reply
    posted, update = slack.requests[0]["body"], slack.requests[1]["body"]
    assert update["ts"] == messages.find(OPENED.incident.id).message.ts  # type: ignore[union-attr]
    assert any(b["type"] == "actions" for b in posted["blocks"])  # the bot's message carries the buttons
    context = " ".join(e["text"] for b in update["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "Acknowledged by <@U0BOB0002> at 08:10 UTC" in context
    (actions,) = [b for b in update["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["watchdog_silence_1h", "watchdog_silence_24h"]


def test_refresh_without_a_living_message_sends_nothing(messages: SlackMessages) -> None:
    with fake_slack() as slack:
        assert not channel(slack, messages).refresh(OPENED.incident, REF)
    assert slack.requests == []
