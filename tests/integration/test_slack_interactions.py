"""Slack's interactivity edge through the real handler: signed Function URL requests, the signing secret in
moto's Secrets Manager, a recorded desk, and the ephemeral reply posted to a local response_url."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.approvals.click import ButtonKind, ClickResult
from ecs_watchdog.handlers import slack_interactions
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.replay.sandbox import FAKE_CREDENTIALS
from ecs_watchdog.wiring.slack_interactions import SIGNING_SECRET_NAME as SECRET_ENV
from tests.integration.fake_slack import FakeSlack, Reply, fake_slack
from tests.integration.slack_requests import (
    SERVICE_KEY,
    SIGNING_SECRET,
    SIGNING_SECRET_NAME,
    RecordedDesk,
    block_actions,
    function_url_event,
)


@pytest.fixture(scope="module")
def secretsmanager() -> Iterator[Any]:
    env = {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1", SECRET_ENV: SIGNING_SECRET_NAME}
    with mock.patch.dict(os.environ, env), mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=SIGNING_SECRET_NAME, SecretString=json.dumps({"signing_secret": SIGNING_SECRET}))
        yield client


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as local:
        yield local


@pytest.fixture
def desk(secretsmanager: Any) -> RecordedDesk:
    return RecordedDesk()


def invoke(desk: RecordedDesk, *events: dict[str, Any]) -> list[dict[str, Any]]:
    handler = slack_interactions.make_handler(lambda env: desk)
    return [handler(event, LocalLambdaContext()) for event in events]


@pytest.mark.parametrize("kind", list(ButtonKind))
def test_every_watchdog_button_becomes_its_click_and_the_clicker_is_answered_privately(desk, slack, kind):
    (response,) = invoke(desk, function_url_event(block_actions(kind, response_url=slack.url)))
    assert response["statusCode"] == 200
    (click,) = desk.clicks
    assert (click.kind, click.target.service, click.target.incident) == (kind, SERVICE_KEY, "inc-1")
    assert click.target.proposal == ("prop-1" if kind in (ButtonKind.APPROVE, ButtonKind.UNDO) else None)
    assert (click.user_id, click.user_name, click.team_id) == ("U0123ONCALL", "ana.oncall", "T0123TEAM")
    assert (click.channel_id, click.message_ts, click.action_ts) == (
        "C0ALERTS",
        "1764750000.000100",
        "1764750060.123456",
    )
    assert click.clicked_at.timestamp() == pytest.approx(1764750060.123456)
    (reply,) = slack.wait_for_requests(1)
    assert reply["body"] == {
        "text": f"{kind} of inc-1 by U0123ONCALL",
        "response_type": "ephemeral",
        "replace_original": False,
    }


def test_a_body_the_function_url_did_not_base64_encode_is_read_alike(desk, slack):
    (response,) = invoke(desk, function_url_event(block_actions(response_url=slack.url), base64_body=False))
    assert response["statusCode"] == 200 and len(desk.clicks) == 1


def test_a_bad_signature_is_refused_with_401_and_reaches_no_desk(desk, slack):
    forged = function_url_event(block_actions(response_url=slack.url), secret="0" * 32)
    (response,) = invoke(desk, forged)
    assert response["statusCode"] == 401
    assert desk.clicks == [] and slack.requests == []


def test_a_body_changed_after_signing_is_refused(desk, slack):
    event = function_url_event(block_actions(response_url=slack.url), base64_body=False)
    event["body"] = event["body"].replace("U0123ONCALL", "U0999INTRUDER")
    (response,) = invoke(desk, event)
    assert response["statusCode"] == 401 and desk.clicks == []


@pytest.mark.parametrize("age", [310, -310, 3600])  # Slack allows 300 s either way
def test_a_request_signed_more_than_five_minutes_away_is_refused(desk, slack, age):
    stale = function_url_event(block_actions(response_url=slack.url), timestamp=int(time.time()) - age)
    (response,) = invoke(desk, stale)
    assert response["statusCode"] == 401 and desk.clicks == []


@pytest.mark.parametrize("stamp", ["", "soon", "1e9"])
def test_a_missing_or_garbled_timestamp_is_refused(desk, stamp):
    event = function_url_event(block_actions())
    event["headers"]["x-slack-request-timestamp"] = stamp
    (response,) = invoke(desk, event)
    assert response["statusCode"] == 401 and desk.clicks == []


def test_a_button_that_is_not_the_watchdogs_is_answered_and_reaches_no_desk(desk, slack):
    (response,) = invoke(desk, function_url_event(block_actions(None, response_url=slack.url)))
    assert response["statusCode"] == 200 and desk.clicks == []
    (reply,) = slack.wait_for_requests(1)
    assert reply["body"]["text"] == "This button is not the watchdog's: nothing was done."
    assert reply["body"]["response_type"] == "ephemeral"


@pytest.mark.parametrize(
    ("action_id", "value", "why"),
    [
        ("watchdog_reboot", None, "no watchdog button is called watchdog_reboot"),
        ("watchdog_approve", "not json", "its value names no incident"),
        ("watchdog_undo", json.dumps({"s": SERVICE_KEY}), "its value names no incident"),
    ],
)
def test_a_malformed_watchdog_button_is_answered_so_and_reaches_no_desk(desk, slack, action_id, value, why):
    payload = block_actions(action_id=action_id, value=value, response_url=slack.url)
    (response,) = invoke(desk, function_url_event(payload))
    assert response["statusCode"] == 200 and desk.clicks == []
    (reply,) = slack.wait_for_requests(1)
    assert reply["body"]["text"] == f"This watchdog button is malformed ({why}): nothing was done."


def test_a_press_naming_no_user_is_malformed(desk, slack):
    payload = block_actions(response_url=slack.url, user_id="")
    invoke(desk, function_url_event(payload))
    assert desk.clicks == []
    assert "names no user or no press" in slack.wait_for_requests(1)[0]["body"]["text"]


def test_slacks_retry_reaches_the_desk_with_the_same_press_id(desk, slack):
    payload = block_actions(ButtonKind.ACKNOWLEDGE, response_url=slack.url)
    first = function_url_event(payload)
    retry = function_url_event(payload, headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    responses = invoke(desk, first, retry)
    assert [r["statusCode"] for r in responses] == [200, 200]
    assert [c.action_ts for c in desk.clicks] == ["1764750060.123456"] * 2  # the desk dedupes on it


def test_the_desks_answer_is_told_whatever_it_is(secretsmanager, slack):
    refused = RecordedDesk(result=ClickResult.NOT_ALLOWED)
    invoke(refused, function_url_event(block_actions(response_url=slack.url)))
    assert slack.wait_for_requests(1)[0]["body"]["text"] == "approve of inc-1 by U0123ONCALL"


def test_a_desk_that_cannot_be_built_is_answered_as_the_watchdogs_trouble(secretsmanager, slack):
    def broken(env: Any) -> Any:
        raise RuntimeError("ecs-watchdog is misconfigured: check environment variable(s) STATE_TABLE_NAME")

    handler = slack_interactions.make_handler(broken)
    response = handler(function_url_event(block_actions(response_url=slack.url)), LocalLambdaContext())
    assert response["statusCode"] == 200
    text = slack.wait_for_requests(1)[0]["body"]["text"]
    assert text == "The watchdog could not take this click (RuntimeError): nothing was done. Its logs say more."


def test_the_signing_secret_is_read_once_per_cold_start(secretsmanager, desk, slack):
    reads: list[str] = []
    original = boto3.Session.client

    def counting(session: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        client = original(session, name, *args, **kwargs)
        if name == "secretsmanager":
            client.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **_: reads.append("read"))
        return client

    with mock.patch.object(boto3.Session, "client", counting):
        invoke(desk, *(function_url_event(block_actions(response_url=slack.url)) for _ in range(3)))
    assert reads == ["read"] and len(desk.clicks) == 3


def test_without_a_signing_secret_every_request_is_refused_with_500_and_the_reason_logged(desk, caplog):
    with mock.patch.dict(os.environ, {SECRET_ENV: "ecs-watchdog/missing"}):
        (response,) = invoke(desk, function_url_event(block_actions()))
    assert response["statusCode"] == 500 and desk.clicks == []
    (logged,) = [r for r in caplog.records if r.getMessage() == "Slack interactions cannot start"]
    assert "Slack signing secret 'ecs-watchdog/missing' cannot be read (ResourceNotFoundException)" in logged.error


def test_a_request_that_is_not_a_function_url_event_is_refused(desk):
    (response,) = invoke(desk, {"Records": []})
    assert response["statusCode"] == 400 and desk.clicks == []


def test_a_slack_that_refuses_the_reply_leaves_the_click_done(desk):
    with fake_slack() as local:
        local.answer_from_now(Reply(status=404))
        (response,) = invoke(desk, function_url_event(block_actions(response_url=local.url)))
    assert response["statusCode"] == 200 and len(desk.clicks) == 1


def test_two_presses_in_one_payload_are_two_clicks_and_one_private_reply(desk, slack):
    payload = block_actions(response_url=slack.url)
    payload["actions"].append(
        {**payload["actions"][0], "action_id": "watchdog_acknowledge", "action_ts": "1764750061.5"}
    )
    invoke(desk, function_url_event(payload))
    assert [(c.kind, c.action_ts) for c in desk.clicks] == [
        (ButtonKind.APPROVE, "1764750060.123456"),
        (ButtonKind.ACKNOWLEDGE, "1764750061.5"),
    ]
    (reply,) = slack.wait_for_requests(1)
    assert reply["body"]["text"] == "approve of inc-1 by U0123ONCALL\nacknowledge of inc-1 by U0123ONCALL"


def test_an_interaction_that_is_no_button_press_is_left_unhandled_and_reaches_no_desk(desk, slack):
    shortcut = {"type": "shortcut", "callback_id": "other", "user": {"id": "U0123ONCALL"}, "team": {"id": "T1"}}
    (response,) = invoke(desk, function_url_event(shortcut))
    assert response["statusCode"] == 404 and desk.clicks == [] and slack.requests == []
