"""Post to a Slack incoming webhook whose URL lives in Secrets Manager.

The URL is a credential: it is read at run time, cached in memory for a few minutes (so a rotated
URL is picked up without a deploy) and never logged, never put in an exception message.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any


class SlackDeliveryError(RuntimeError):
    """Slack did not accept the message; the caller retries the event."""


def webhook_url_from_secret(secret_string: str) -> str:
    """The webhook URL from the secret's value: the URL itself, or JSON with `webhook_url` / `url`."""
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError as error:
            raise SlackDeliveryError("the Slack secret is neither a URL nor valid JSON") from error
        value = str(data.get("webhook_url") or data.get("url") or "")
    if not value.startswith(("https://", "http://")):
        raise SlackDeliveryError("the Slack secret does not hold a webhook URL (expected https://...)")
    return value


class SecretValue:
    """A Secrets Manager secret read lazily and cached for `max_age_seconds`."""

    def __init__(
        self,
        client: Any,
        secret_id: str,
        max_age_seconds: float = 300,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._value: str | None = None
        self._read_at = 0.0

    def get(self) -> str:
        now = self._monotonic()
        if self._value is None or now - self._read_at > self._max_age:
            self._value = self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
            self._read_at = now
        return self._value


class SlackWebhook:
    """Delivers Block Kit payloads to the webhook named by a secret."""

    def __init__(self, secret: SecretValue, timeout_seconds: float = 5.0) -> None:
        self._secret = secret
        self._timeout = timeout_seconds

    def post(self, payload: dict[str, Any]) -> None:
        """POST the payload; raise SlackDeliveryError (without the URL) unless Slack answers 2xx."""
        url = webhook_url_from_secret(self._secret.get())
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise SlackDeliveryError(f"Slack answered HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SlackDeliveryError(f"Slack unreachable: {type(reason).__name__}") from None
        if not 200 <= status < 300:
            raise SlackDeliveryError(f"Slack answered HTTP {status}")
