"""Post and edit Slack messages as a bot (`chat.postMessage`, `chat.update`, `chat.delete`) with slack_sdk.

The bot token lives in a Secrets Manager secret (the token itself, `xoxb-...`, or JSON with `bot_token`
/ `token`), read through Powertools parameters and cached five minutes, checked on read (Slack's form:
`xoxb-` then letters, digits and dashes only; a line break inside would otherwise be quoted, with the
token, by the HTTP client's error), never logged: each client gets `sdk_logger`, which blanks it.
Every post and edit carries `unfurl_links` / `unfurl_media` false. Failures map onto the webhook's
errors, so the outbox treats both modes alike:
- no answer within the timeout, a connection error, or 429 / `ratelimited` after one wait of
  Retry-After (capped): `SlackDown`, Slack is left alone for the rest of the invocation and the
  message waits in the outbox;
- 5xx (after two retries) or any other Slack error: `SlackDeliveryError`, the event is retried;
- a token Slack refuses, a channel the bot cannot post to, a missing scope, or a secret that is
  missing or holds no token (or not one of Slack's form): `SlackUnavailable`, a person must fix it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.client import HTTPException, InvalidURL
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ecs_watchdog.aws.slack import (
    NO_UNFURLING,
    RateLimitRetry,
    ServerErrorRetry,
    SlackDeliveryError,
    SlackDown,
    SlackUnavailable,
    Sleep,
    WebhookSecret,
    has_unsafe_characters,
    redact,
    sdk_logger,
    worst_case_seconds,
)

# Slack's answers that no retry will change: the token, the channel or the app's scopes are wrong.
CONFIGURATION_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "team_access_not_granted",
    }
)
MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# Slack's bot tokens: `xoxb-`, then letters, digits and dashes (today about 55 characters in all; Slack
# does not promise a length, so the bounds only catch a truncated or doubled paste).
BOT_TOKEN = re.compile(r"xoxb-[A-Za-z0-9-]+")
BOT_TOKEN_LENGTHS = range(15, 256)


class SlackMessageGone(SlackDeliveryError):
    """The message to edit no longer exists (deleted by a person) or can no longer be edited."""


@dataclass(frozen=True)
class PostedMessage:
    """Where a message landed: the channel's id (chat.update needs the id, not the name) and its ts."""

    channel: str
    ts: str


def bot_token_from_secret(secret_string: str) -> str:
    """The bot token from the secret's value (surrounding whitespace ignored); SlackUnavailable saying what
    is wrong, never the value or a part of it, when there is none or it is not of Slack's form."""
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            raise SlackUnavailable("the Slack bot secret is neither a token nor valid JSON") from None
        value = str(data.get("bot_token") or data.get("token") or "") if isinstance(data, dict) else ""
    if not value.startswith("xox"):
        raise SlackUnavailable("the Slack bot secret does not hold a bot token (expected xoxb-...)")
    return checked_bot_token(value)


def checked_bot_token(value: str) -> str:
    """`value` if it has the form of a Slack bot token, else SlackUnavailable naming the fault."""
    if has_unsafe_characters(value):
        raise SlackUnavailable(
            "the bot token contains whitespace or a control character (two tokens pasted on two lines?)"
        )
    if not value.startswith("xoxb-"):
        raise SlackUnavailable("the token is not a bot token (expected xoxb-...)")
    if BOT_TOKEN.fullmatch(value) is None:
        raise SlackUnavailable("the bot token holds characters other than letters, digits and dashes")
    if len(value) not in BOT_TOKEN_LENGTHS:
        raise SlackUnavailable(
            f"the bot token is {len(value)} characters long, expected {BOT_TOKEN_LENGTHS.start} to "
            f"{BOT_TOKEN_LENGTHS.stop - 1}"
        )
    return value


class BotTokenSecret(WebhookSecret):
    """The bot token held by a Secrets Manager secret, read through Powertools and cached."""

    def token(self) -> str:
        """The current token; SlackUnavailable for a configuration fault, SlackDeliveryError for a transient one."""
        try:
            value = self._provider.get(self._name, max_age=self._max_age)
        except Exception as error:  # GetParameterError wraps the botocore error as its context
            raise self._read_failure(error.__context__) from None
        if not isinstance(value, str):
            raise SlackUnavailable(f"Slack secret {self._name!r} holds binary data, not a bot token")
        try:
            return bot_token_from_secret(value)
        except SlackUnavailable as error:
            raise SlackUnavailable(f"Slack secret {self._name!r}: {error}") from None


class SlackBot:
    """A Slack app's bot user posting to one channel."""

    def __init__(
        self,
        token: Callable[[], str],
        channel: str,
        *,
        base_url: str = WebClient.BASE_URL,
        timeout_seconds: float = 5.0,
        sleep: Sleep = time.sleep,
    ) -> None:
        """`token` is called on every request, so a rotated secret is followed; `base_url` is for tests."""
        self._token = token
        self.channel = channel
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._sleep = sleep

    @property
    def worst_case_seconds(self) -> float:
        """The longest one Web API call can take (timeouts and waits between retries)."""
        return worst_case_seconds(self._timeout)

    @classmethod
    def from_secret(cls, secretsmanager_client: Any, secret_name: str, channel: str, **options: Any) -> SlackBot:
        """A bot whose token is the value of `secret_name`."""
        return cls(BotTokenSecret(secretsmanager_client, secret_name).token, channel, **options)

    def post(self, payload: dict[str, Any], thread_ts: str | None = None) -> PostedMessage:
        """`chat.postMessage` of a Block Kit payload, in a thread when `thread_ts` is given."""
        body = {**payload, **NO_UNFURLING, "channel": self.channel, "thread_ts": thread_ts}
        response = self._call("chat.postMessage", body)
        return PostedMessage(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, message: PostedMessage, payload: dict[str, Any]) -> None:
        """`chat.update`: the message now shows `payload`. SlackMessageGone when it cannot be edited."""
        self._call("chat.update", {**payload, **NO_UNFURLING, "channel": message.channel, "ts": message.ts})

    def delete(self, message: PostedMessage) -> None:
        """`chat.delete`; a message already gone is fine."""
        try:
            self._call("chat.delete", {"channel": message.channel, "ts": message.ts})
        except SlackMessageGone:
            return

    def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        token = self._token()
        client = WebClient(
            token=token,
            base_url=self._base_url,
            timeout=self._timeout,  # type: ignore[arg-type]  # typed int, passed on to urlopen, which takes a float
            logger=sdk_logger(token),
            retry_handlers=[ServerErrorRetry(self._sleep), RateLimitRetry(self._sleep)],
        )
        try:
            return dict(client.api_call(method, json={k: v for k, v in body.items() if v is not None}).data)  # type: ignore[arg-type]
        except SlackApiError as error:
            raise _api_failure(method, error) from None
        except TimeoutError:
            raise SlackDown(
                f"Slack did not answer {method} within {self._timeout:g} s; it is sent again later"
            ) from None
        except InvalidURL:  # an HTTPException, but a configuration fault: its message quotes the URL's path
            raise SlackUnavailable("the Slack URL was refused before sending (InvalidURL)") from None
        except (OSError, HTTPException) as error:
            raise SlackDown(f"Slack unreachable: {type(error).__name__}") from None
        except (ValueError, SlackClientError) as error:
            # The HTTP client refused to send (a header or URL it cannot use); its message quotes the
            # header, `Bearer <token>`, so only the error's type goes on.
            raise SlackUnavailable(f"Slack {method} was refused before sending ({type(error).__name__})") from None


def _api_failure(method: str, error: SlackApiError) -> SlackDeliveryError:
    response = error.response
    if isinstance(response, dict):  # slack_sdk hands a dict when the body was not JSON (a proxy's 5xx page)
        return SlackDeliveryError(f"Slack answered {method} with HTTP {response.get('status')}")
    code = redact(str(response.get("error") or "")) if response.data else ""
    if code in CONFIGURATION_ERRORS:
        return SlackUnavailable(f"Slack refused {method}: {code} (check the bot token, its scopes and the channel)")
    if code in MESSAGE_GONE:
        return SlackMessageGone(f"Slack cannot edit the message: {code}")
    if response.status_code == 429 or code == "ratelimited":
        return SlackDown(f"Slack answered {method} with HTTP {response.status_code}: {code or 'rate limited'}")
    return SlackDeliveryError(f"Slack answered {method} with HTTP {response.status_code}: {code or 'no error code'}")
