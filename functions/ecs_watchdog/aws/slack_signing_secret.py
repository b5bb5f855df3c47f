"""The Slack app's signing secret, read from Secrets Manager (WATCHDOG_SLACK_SIGNING_SECRET_NAME).

Slack signs every interaction request with it (HMAC-SHA256 of `v0:<timestamp>:<body>`); whoever holds it
can forge a click, so it is a credential like the bot token: read at cold start through Powertools
parameters with a provider of its own (the caller's session), never logged, never in an exception
message. The secret holds the signing secret itself, or JSON `{"signing_secret": "..."}` (docs/slack-app.md).
Slack's signing secrets are 32 hexadecimal characters today; the check only refuses what cannot be one
(empty, whitespace or a control character inside, a bot token or a webhook URL pasted by mistake).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.exceptions import ClientError

from ecs_watchdog.aws.slack import (
    _BOTOCORE_BODIES,
    _SECRET_VALUES_BLANKED,
    CONFIGURATION_ERROR_CODES,
    has_unsafe_characters,
)

SIGNING_SECRET = re.compile(r"[A-Za-z0-9]{16,128}")
JSON_KEY = "signing_secret"


class SigningSecretUnavailable(RuntimeError):
    """The signing secret cannot be had; the message says why, never the value."""


def signing_secret_from_secret(secret_string: str) -> str:
    """The signing secret from the secret's value (surrounding whitespace ignored): the value itself or
    JSON with `signing_secret`; SigningSecretUnavailable saying what is wrong when it holds none."""
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            raise SigningSecretUnavailable("the signing secret is neither the secret itself nor valid JSON") from None
        value = str(data.get(JSON_KEY) or "") if isinstance(data, dict) else ""
        if not value:
            raise SigningSecretUnavailable(f'the signing secret\'s JSON has no "{JSON_KEY}" key')
    if value.startswith(("xox", "https://", "http://")):
        raise SigningSecretUnavailable(
            "the signing secret holds a Slack token or a URL, not the app's signing secret "
            "(api.slack.com/apps → Basic Information → Signing Secret)"
        )
    if has_unsafe_characters(value):
        raise SigningSecretUnavailable("the signing secret contains whitespace or a control character")
    if SIGNING_SECRET.fullmatch(value) is None:
        raise SigningSecretUnavailable(
            f"the signing secret is not {SIGNING_SECRET.pattern} (Slack's are 32 hexadecimal characters)"
        )
    return value


class SigningSecret:
    """The signing secret held by a Secrets Manager secret."""

    def __init__(self, secretsmanager_client: Any, secret_name: str) -> None:
        # A provider of our own: the module-level one would use the default session, not the caller's.
        self._provider = SecretsProvider(boto3_client=secretsmanager_client)
        _BOTOCORE_BODIES.addFilter(_SECRET_VALUES_BLANKED)  # botocore's DEBUG line would show the value
        self._name = secret_name

    def value(self) -> str:
        """The signing secret; SigningSecretUnavailable naming the secret and the fault, never the value."""
        try:
            value = self._provider.get(self._name)
        except Exception as error:  # GetParameterError wraps the botocore error as its context
            cause = error.__context__
            code = cause.response.get("Error", {}).get("Code", "") if isinstance(cause, ClientError) else ""
            hint = (
                ": check that it exists and that the function's role may read it"
                if code in CONFIGURATION_ERROR_CODES
                else ""
            )
            raise SigningSecretUnavailable(
                f"Slack signing secret {self._name!r} cannot be read ({code or type(cause).__name__}){hint}"
            ) from None
        if not isinstance(value, str):
            raise SigningSecretUnavailable(f"Slack signing secret {self._name!r} holds binary data")
        try:
            return signing_secret_from_secret(value)
        except SigningSecretUnavailable as error:
            raise SigningSecretUnavailable(f"Slack signing secret {self._name!r}: {error}") from None
