"""Who is in a Slack user group: `usergroups.users.list` with the bot token against a local Slack Web API,
cached per group; Slack's refusals and silence are said, never read as "not a member"."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ecs_watchdog.aws.slack_usergroups import SlackUserGroups, UserGroupUnavailable
from tests.integration.fake_slack import Reply, closed_port_url, fake_slack

TOKEN = "xoxb-1111-2222-usergroups"
MEMBERS = {"ok": True, "users": ["U0123ONCALL", "W0456LEAD"]}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def groups(base_url: str, clock: Clock | None = None, **options: Any) -> SlackUserGroups:
    return SlackUserGroups(lambda: TOKEN, base_url=base_url, clock=clock or Clock(), **options)


def test_members_are_listed_with_the_bot_token_and_cached_for_five_minutes():
    clock = Clock()
    with fake_slack(Reply(body=MEMBERS)) as slack:
        members = groups(slack.api_base_url, clock)
        assert members.members("S0789ONCALL") == frozenset({"U0123ONCALL", "W0456LEAD"})
        clock.now += 299
        members.members("S0789ONCALL")
        assert len(slack.requests) == 1
        clock.now += 2
        members.members("S0789ONCALL")
        assert len(slack.requests) == 2
    (request, _) = slack.requests
    assert request["path"] == "/api/usergroups.users.list"
    assert request["body"] == {"usergroup": ["S0789ONCALL"]}
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_each_group_has_its_own_answer():
    with fake_slack(Reply(body=MEMBERS), Reply(body={"ok": True, "users": []})) as slack:
        members = groups(slack.api_base_url)
        assert members.members("S0789ONCALL") == {"U0123ONCALL", "W0456LEAD"}
        assert members.members("S0000EMPTY") == frozenset()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"ok": False, "error": "no_such_subteam"}, "Slack refused to list user group S0789ONCALL: no_such_subteam"),
        ({"ok": False, "error": "missing_scope"}, "missing_scope (the app needs the usergroups:read scope)"),
        ({"ok": True}, "Slack's answer for user group S0789ONCALL names no users"),
    ],
)
def test_a_refusal_is_said_naming_the_group_and_slacks_error(answer, message):
    with fake_slack(Reply(body=answer)) as slack, pytest.raises(UserGroupUnavailable) as raised:
        groups(slack.api_base_url).members("S0789ONCALL")
    assert message in str(raised.value) and TOKEN not in str(raised.value)


def test_a_slack_that_does_not_answer_in_time_is_said_without_retrying():
    with fake_slack(Reply(hang=True)) as slack, pytest.raises(UserGroupUnavailable, match=r"within 0\.2 s"):
        groups(slack.api_base_url, timeout_seconds=0.2).members("S0789ONCALL")
    assert len(slack.requests) == 1


def test_an_unreachable_slack_is_said():
    with pytest.raises(UserGroupUnavailable, match="Slack unreachable listing user group S0789ONCALL"):
        groups(closed_port_url().split("/services")[0] + "/api/").members("S0789ONCALL")


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_the_token_comes_from_the_bot_secret(secretsmanager):
    secretsmanager.create_secret(Name="ecs-watchdog/slack-bot", SecretString=json.dumps({"bot_token": TOKEN}))
    with fake_slack(Reply(body=MEMBERS)) as slack:
        members = SlackUserGroups.from_bot_secret(secretsmanager, "ecs-watchdog/slack-bot", base_url=slack.api_base_url)
        assert "U0123ONCALL" in members.members("S0789ONCALL")
    assert slack.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"


def test_a_missing_bot_secret_is_said_without_asking_slack(secretsmanager):
    with fake_slack() as slack, pytest.raises(UserGroupUnavailable, match="no bot token to ask Slack about user group"):
        SlackUserGroups.from_bot_secret(secretsmanager, "ecs-watchdog/none", base_url=slack.api_base_url).members("S1")
    assert slack.requests == []


def test_the_desk_asks_slack_about_the_group_only_when_one_is_allowed_and_the_bot_is_known():
    from ecs_watchdog.wiring.slack_interactions import user_groups

    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    bot = {"SLACK_BOT_SECRET_NAME": "ecs-watchdog/slack-bot"}
    assert isinstance(user_groups({**bot, "WATCHDOG_SLACK_ALLOWED_USERGROUP": "S0789ONCALL"}, session), SlackUserGroups)
    assert user_groups(bot, session) is None
    assert user_groups({"WATCHDOG_SLACK_ALLOWED_USERGROUP": "S0789ONCALL"}, session) is None
