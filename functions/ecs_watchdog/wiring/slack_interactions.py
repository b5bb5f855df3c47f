"""What the Slack interactivity function needs from its environment, read once per cold start: the
signing secret (Secrets Manager, WATCHDOG_SLACK_SIGNING_SECRET_NAME) and the click desk."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import boto3

from ecs_watchdog.aws.slack_signing_secret import SigningSecret, SigningSecretUnavailable

SIGNING_SECRET_NAME = "WATCHDOG_SLACK_SIGNING_SECRET_NAME"
# The desk is built by wiring/approvals.py (`build_click_desk(env)`, the approvals work of issue 25); it is
# looked up by name so this edge is built and tested on its own, with a desk the tests inject.
DESK_BUILDER = ("ecs_watchdog.wiring.approvals", "build_click_desk")


def signing_secret(env: Mapping[str, str], session: boto3.Session | None = None) -> str:
    """The Slack app's signing secret; SigningSecretUnavailable naming what to fix (never the value)."""
    name = env.get(SIGNING_SECRET_NAME, "").strip()
    if not name:
        raise SigningSecretUnavailable(
            f"{SIGNING_SECRET_NAME} is not set (context key watchdog:slack_signing_secret_name)"
        )
    session = session or boto3.Session()
    return SigningSecret(session.client("secretsmanager"), name).value()


def click_desk(env: Mapping[str, str]) -> Any:
    """The desk that carries a click out, built from the same environment as the events function's."""
    module, builder = DESK_BUILDER
    return getattr(importlib.import_module(module), builder)(env)
