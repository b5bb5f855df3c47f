"""Slack secrets are checked on read and never logged, and nothing the watchdog posts unfurls links.

A bot token with a line break inside (two tokens pasted on two lines) used to reach http.client, whose
`Invalid header value b'Bearer xoxb-...'` went into slack_sdk's ERROR line on the root logger and, as
an unwrapped ValueError, into the batch's traceback; a webhook URL with a space in it put its secret
path into slack_sdk's ERROR line. Now such a secret is refused on read, like an unreadable one (logged
at ERROR without the value, counted as ChannelUnavailable, SNS still sent), and whatever slack_sdk
logs or raises reaches the logs only redacted. Every log line is captured (root logger at DEBUG, and
stdout/stderr) and searched for any piece of the secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.announce.channels import ChannelUnavailable, SlackBotChannel, SlackChannel
from ecs_watchdog.aws.slack import SlackDown, SlackUnavailable, SlackWebhook, WebhookSecret, redact
from ecs_watchdog.aws.slack_bot import BotTokenSecret, SlackBot, SlackMessageGone
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from ecs_watchdog.replay.sandbox import SLACK_SECRET_NAME, local_account
from tests.integration.fake_slack import WEBHOOK_PATH, Reply, fake_slack
from tests.integration.incident_events import bodies, service_action
from tests.integration.service_setup import create_service, invoke
from tests.integration.test_handler_metrics import emf_lines, totals
from tests.unit.announce_fixtures import REF, transition

BOT_SECRET_NAME = "ecs-watchdog/slack-bot"
FIRST_TOKEN = "xoxb-111111111111-222222222222-FirstTokenSecretPart"
SECOND_TOKEN = "xoxb-333333333333-444444444444-SecondTokenSecretPart"
HOOK = "https://hooks.slack.com/services/T0SECRETID/B0SECRETID/WebhookSecretPart"
OPENED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
RESOLVED = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.RESOLVED)


def secret_pieces(*secrets: str) -> list[str]:
    """What must appear nowhere: each secret, its parts between separators, and the path of a URL."""
    pieces: set[str] = set()
    for secret in secrets:
        pieces.add(secret)
        for part in secret.replace("\n", " ").replace("\t", " ").split(" "):
            pieces.update(p for p in part.split("/") if len(p) >= 8 and p not in {"hooks.slack.com", "services"})
            if part.startswith("xoxb-"):
                pieces.update(p for p in part.split("-")[1:] if len(p) >= 8)
    return sorted(pieces)


def assert_nowhere(texts: list[str], *secrets: str) -> None:
    everything = "\n".join(texts)
    leaked = [piece for piece in secret_pieces(*secrets) if piece in everything]
    assert leaked == [], f"secret pieces in the logs: {leaked}"
    assert "Bearer xox" not in everything and "/services/T" not in everything


def all_logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Every record's message and exception text, and everything written to stdout and stderr."""
    captured = capsys.readouterr()
    texts = [captured.out, captured.err, caplog.text]
    for record in caplog.records:
        texts.append(record.getMessage())
        texts.append(json.dumps(record.__dict__, default=str))
        if record.exc_info and record.exc_info[1] is not None:
            texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


# -------------------------------------------------------------------------------------------------
# Checked on read: the forms accepted, and each fault named without the value.

BROKEN_TOKENS = {
    "two-tokens-on-two-lines": f"{FIRST_TOKEN}\n{SECOND_TOKEN}",
    "space-inside": FIRST_TOKEN[:20] + " " + FIRST_TOKEN[20:],
    "tab-inside": FIRST_TOKEN[:20] + "\t" + FIRST_TOKEN[20:],
    "control-character": FIRST_TOKEN[:20] + "\x00" + FIRST_TOKEN[20:],
    "user-token": "xoxp-" + FIRST_TOKEN[5:],
    "other-characters": FIRST_TOKEN + "_Secret!",
    "truncated": "xoxb-12345",
    "doubled-without-separator": "xoxb-" + "A" * 300,
}


@pytest.mark.parametrize("value", list(BROKEN_TOKENS.values()), ids=list(BROKEN_TOKENS))
@pytest.mark.parametrize("stored", ["plain", "json"])
def test_a_bot_token_not_of_slacks_form_is_refused_naming_the_secret_not_the_value(secretsmanager, value, stored):
    secret_string = value if stored == "plain" else json.dumps({"bot_token": value})
    secretsmanager.create_secret(Name=BOT_SECRET_NAME, SecretString=secret_string)
    with pytest.raises(SlackUnavailable) as raised:
        BotTokenSecret(secretsmanager, BOT_SECRET_NAME).token()
    message = str(raised.value)
    assert BOT_SECRET_NAME in message
    assert_nowhere([message, repr(raised.value)], value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_each_bot_token_fault_is_named(secretsmanager):
    faults = {}
    for name, value in BROKEN_TOKENS.items():
        secretsmanager.create_secret(Name=f"bot/{name}", SecretString=value)
        with pytest.raises(SlackUnavailable) as raised:
            BotTokenSecret(secretsmanager, f"bot/{name}").token()
        faults[name] = str(raised.value)
    assert "whitespace or a control character" in faults["two-tokens-on-two-lines"]
    assert "whitespace or a control character" in faults["control-character"]
    assert "not a bot token" in faults["user-token"]
    assert "letters, digits and dashes" in faults["other-characters"]
    assert "characters long" in faults["truncated"] and "characters long" in faults["doubled-without-separator"]


@pytest.mark.parametrize("secret_string", [FIRST_TOKEN, f"  {FIRST_TOKEN}\n", json.dumps({"bot_token": FIRST_TOKEN})])
def test_a_bot_token_of_slacks_form_is_read_surrounding_whitespace_ignored(secretsmanager, secret_string):
    secretsmanager.create_secret(Name=BOT_SECRET_NAME, SecretString=secret_string)
    assert BotTokenSecret(secretsmanager, BOT_SECRET_NAME).token() == FIRST_TOKEN


BROKEN_WEBHOOKS = {
    "space-inside": HOOK[:40] + " " + HOOK[40:],
    "line-break-inside": HOOK[:40] + "\n" + HOOK[40:],
    "two-urls-on-two-lines": f"{HOOK}\n{HOOK.replace('Part', 'Other')}",
    "control-character": HOOK[:40] + "\x7f" + HOOK[40:],
    "plain-http": HOOK.replace("https://", "http://"),
    "no-host": HOOK.replace("hooks.slack.com", ""),
}


@pytest.mark.parametrize("value", list(BROKEN_WEBHOOKS.values()), ids=list(BROKEN_WEBHOOKS))
@pytest.mark.parametrize("stored", ["plain", "json"])
def test_a_webhook_url_that_is_not_clean_https_is_refused_naming_the_secret_not_the_value(
    secretsmanager, value, stored
):
    secret_string = value if stored == "plain" else json.dumps({"webhook_url": value})
    secretsmanager.create_secret(Name=SLACK_SECRET_NAME, SecretString=secret_string)
    with pytest.raises(SlackUnavailable) as raised:
        WebhookSecret(secretsmanager, SLACK_SECRET_NAME).url()
    message = str(raised.value)
    assert SLACK_SECRET_NAME in message
    assert_nowhere([message, repr(raised.value)], value)


@pytest.mark.parametrize(
    "value", [HOOK, "https://hooks.slack-gov.com/services/T/B/x", "http://127.0.0.1:8080" + WEBHOOK_PATH]
)
def test_an_https_webhook_url_or_a_loopback_one_is_accepted(secretsmanager, value):
    secretsmanager.create_secret(Name=SLACK_SECRET_NAME, SecretString=f"{value}\n")
    assert WebhookSecret(secretsmanager, SLACK_SECRET_NAME).url() == value


def test_redact_blanks_the_secret_and_its_pieces_tokens_bearer_and_webhook_paths():
    token = f"{FIRST_TOKEN}\n{SECOND_TOKEN}"
    text = redact(f"Invalid header value b'Bearer {token!r}' for {HOOK} and /services/T1/B2/abc", token)
    assert_nowhere([text], token, HOOK)
    assert "abc" not in text and "<secret>" in text


# -------------------------------------------------------------------------------------------------
# Through the real events handler: a broken secret is a channel unavailable, logged without its value.


@pytest.mark.parametrize("mode", ["webhook", "bot"])
def test_a_broken_slack_secret_under_the_handler_is_counted_unavailable_sns_still_goes_and_nothing_leaks(
    mode, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    with local_account() as sandbox:
        secrets = sandbox.session.client("secretsmanager")
        settings = sandbox.settings
        if mode == "webhook":
            broken = sandbox.slack.url + " " + "TailOfTheSecretPath"
            secrets.put_secret_value(SecretId=SLACK_SECRET_NAME, SecretString=json.dumps({"webhook_url": broken}))
            secret_name = SLACK_SECRET_NAME
        else:
            broken = f"{FIRST_TOKEN}\n{SECOND_TOKEN}"
            secrets.create_secret(Name=BOT_SECRET_NAME, SecretString=broken)
            settings = settings.model_copy(update={"slack_bot_secret_name": BOT_SECRET_NAME, "slack_channel": "#ops"})
            secret_name = BOT_SECRET_NAME
        create_service(sandbox, "api")
        ecs_events.install(settings, sandbox.session)
        caplog.clear()  # what the test's own setup logged (botocore shows the secret it writes)
        capsys.readouterr()
        response = invoke(bodies(service_action("SERVICE_TASK_START_IMPAIRED", 1, service="api")))
        assert response["batchItemFailures"] == []
        assert len(sandbox.sns_messages()) == 1  # email, the channel of last resort, still gets it
        assert sandbox.slack.payloads == []
    texts = all_logged(caplog, capsys)
    counted = totals(emf_lines(texts[0]))
    assert counted[("ChannelUnavailable", ())] == 1
    (problem,) = [r for r in caplog.records if r.getMessage().startswith("announcement channel unavailable")]
    assert problem.levelname == "ERROR" and secret_name in problem.problem
    assert "whitespace or a control character" in problem.problem
    assert_nowhere(texts, broken)


# -------------------------------------------------------------------------------------------------
# Defence in depth: a broken secret that reaches slack_sdk anyway (built without the secret's check).


def test_a_token_with_a_line_break_reaching_slack_sdk_is_unavailable_and_logged_only_redacted(messages, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    token = f"{FIRST_TOKEN}\n{SECOND_TOKEN}"
    with fake_slack() as slack:
        bot = SlackBot(lambda: token, "#ops", base_url=slack.api_base_url, sleep=lambda _: None)
        channel = SlackBotChannel(bot, messages, unavailable=(SlackUnavailable,), gone=(SlackMessageGone,))
        with pytest.raises(ChannelUnavailable) as raised:
            channel.send(OPENED, REF)
        logging.getLogger("batch").error("record failed", exc_info=raised.value)  # as the batch processor logs
    assert slack.requests == []
    assert [r for r in caplog.records if r.name == "ecs_watchdog.aws.slack.sdk"], "slack_sdk's line is kept, redacted"
    assert_nowhere(all_logged(caplog, capsys), token)


@pytest.mark.parametrize("separator", [" ", "\n"])
def test_a_webhook_url_with_a_space_reaching_slack_sdk_is_unavailable_and_logged_only_redacted(
    separator, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    with fake_slack() as slack:
        url = slack.url + separator + "TailOfTheSecretPath"
        channel = SlackChannel(SlackWebhook(lambda: url, sleep=lambda _: None), unavailable=(SlackUnavailable,))
        with pytest.raises(ChannelUnavailable) as raised:
            channel.send(OPENED, REF)
        logging.getLogger("batch").error("record failed", exc_info=raised.value)
    assert slack.requests == []
    assert_nowhere(all_logged(caplog, capsys), url, WEBHOOK_PATH)


def test_a_retried_webhook_post_logs_nothing_that_shows_the_url(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with fake_slack(Reply(503), Reply(200)) as slack:
        SlackWebhook(lambda: slack.url, sleep=lambda _: None).post({"text": "x"})
    assert len(slack.requests) == 2
    assert_nowhere(all_logged(caplog, capsys), slack.url, WEBHOOK_PATH)


# -------------------------------------------------------------------------------------------------
# No link unfurling, on every payload the watchdog posts.


def test_every_webhook_post_turns_link_unfurling_off():
    with fake_slack() as slack:
        channel = SlackChannel(SlackWebhook(lambda: slack.url, sleep=lambda _: None))
        channel.send(OPENED, REF)
        channel.send_update(OPENED.incident, REF, OPENED.at)
    assert len(slack.requests) == 2
    assert all(r["body"]["unfurl_links"] is False and r["body"]["unfurl_media"] is False for r in slack.requests)


def test_every_bot_post_and_edit_turns_link_unfurling_off(messages):
    with fake_slack() as slack:
        bot = SlackBot(lambda: FIRST_TOKEN, "#ops", base_url=slack.api_base_url, sleep=lambda _: None)
        channel = SlackBotChannel(bot, messages, unavailable=(SlackUnavailable,), down=(SlackDown,))
        channel.send(OPENED, REF)
        channel.send(RESOLVED, REF)  # chat.update of the living message, then a thread reply
        channel.send_update(OPENED.incident, REF, OPENED.at)
    methods = [r["path"].rsplit("/", 1)[-1] for r in slack.requests]
    assert methods == ["chat.postMessage", "chat.update", "chat.postMessage", "chat.postMessage"]
    assert all(r["body"]["unfurl_links"] is False and r["body"]["unfurl_media"] is False for r in slack.requests)
