"""What the Slack interactivity function needs from its environment, read once per cold start: the
signing secret (Secrets Manager, WATCHDOG_SLACK_SIGNING_SECRET_NAME) and the click desk."""

from __future__ import annotations

from collections.abc import Mapping

import boto3

from ecs_watchdog.aws.slack_signing_secret import SigningSecret, SigningSecretUnavailable
from ecs_watchdog.aws.slack_usergroups import SlackUserGroups
from ecs_watchdog.flow.approvals import ClickDesk
from ecs_watchdog.wiring.approvals import build_click_desk

SIGNING_SECRET_NAME = "WATCHDOG_SLACK_SIGNING_SECRET_NAME"
ALLOWED_USERGROUP = "WATCHDOG_SLACK_ALLOWED_USERGROUP"


def signing_secret(env: Mapping[str, str], session: boto3.Session | None = None) -> str:
    """The Slack app's signing secret; SigningSecretUnavailable naming what to fix (never the value)."""
    name = env.get(SIGNING_SECRET_NAME, "").strip()
    if not name:
        raise SigningSecretUnavailable(
            f"{SIGNING_SECRET_NAME} is not set (context key watchdog:slack_signing_secret_name)"
        )
    session = session or boto3.Session()
    return SigningSecret(session.client("secretsmanager"), name).value()


def click_desk(env: Mapping[str, str], session: boto3.Session | None = None) -> ClickDesk:
    """The desk that carries a click out, built from the same environment as the events function's; with an
    allowed user group, it asks Slack who is in it with the bot's token (SLACK_BOT_SECRET_NAME)."""
    session = session or boto3.Session()
    return build_click_desk(env, session=session, groups=user_groups(env, session))


def user_groups(env: Mapping[str, str], session: boto3.Session) -> SlackUserGroups | None:
    """Who is in Slack user groups, when one may press (WATCHDOG_SLACK_ALLOWED_USERGROUP) and the bot's
    token is known; None otherwise (only the listed users may press)."""
    bot_secret = env.get("SLACK_BOT_SECRET_NAME", "").strip()
    if not env.get(ALLOWED_USERGROUP, "").strip() or not bot_secret:
        return None
    return SlackUserGroups.from_bot_secret(session.client("secretsmanager"), bot_secret)
