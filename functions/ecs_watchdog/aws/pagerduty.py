"""Send PagerDuty Events API v2 events with PagerDuty's own client (`pagerduty.EventsApiV2Client`); the
integration's routing key lives in Secrets Manager.

The routing key is a credential: read at run time through Powertools parameters, cached five minutes (a
rotated key is picked up without a deploy), never logged and never put in an exception message (the
client sends it in the request body, never in the URL it logs). The secret holds the key itself, or JSON
with `routing_key` and optionally `events_url` (another region's Events API, e.g. the EU service).

What `PagerDutyEvents.send` does when things go wrong (the stock client retries 429 without limit and
connection errors three times with growing sleeps: too long inside a Lambda batch, so both are bounded):
- 500, 502, 503, 504: retried once after 0.5 s; failing again: `PagerDutyDeliveryError` (passing: the
  event is retried by SQS, PagerDuty deduplicates on `dedup_key`);
- 429: retried once; a second 429: `PagerDutyDown` (PagerDuty asks us to back off);
- no answer in time, or no connection: `PagerDutyDown`, not retried here;
- 400 (an invalid event) and any other 4xx: `PagerDutyDeliveryError` naming the status;
- the secret missing, unreadable or holding no key, or PagerDuty answering 401/403/404 (a wrong key):
  `PagerDutyUnavailable`, a configuration fault no retry will fix.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx2
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from pagerduty import EventsApiV2Client
from pagerduty.errors import Error as PagerDutyClientError
from pagerduty.errors import HttpError

SECRET_MAX_AGE_SECONDS = 300
TIMEOUT_SECONDS = 5.0
RETRIED_STATUSES = (429, 500, 502, 503, 504)
RETRY_WAIT_SECONDS = 0.5
CONFIGURATION_STATUSES = frozenset({401, 403, 404})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CONFIGURATION_ERROR_CODES = frozenset(
    {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure", "InvalidRequestException"}
)


class PagerDutyDeliveryError(RuntimeError):
    """PagerDuty did not accept the event; the caller retries it."""


class PagerDutyUnavailable(PagerDutyDeliveryError):
    """PagerDuty cannot be reached until someone fixes the configuration (the routing key's secret)."""


class PagerDutyDown(PagerDutyDeliveryError):
    """PagerDuty is not taking events just now (no answer, unreachable, rate limited after the retry)."""


def worst_case_seconds(timeout_seconds: float = TIMEOUT_SECONDS) -> float:
    """Two attempts waiting out their timeout, and the wait between them (the stock client doubles it)."""
    return 2 * timeout_seconds + 2 * RETRY_WAIT_SECONDS


def routing_key_from_secret(secret_string: str) -> tuple[str, str | None]:
    """(routing key, Events API base URL or None) from the secret's value; PagerDutyUnavailable without
    the value when it holds no key."""
    value = secret_string.strip()
    url: str | None = None
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            raise PagerDutyUnavailable("the PagerDuty secret is neither a routing key nor valid JSON") from None
        value = str(data.get("routing_key") or "") if isinstance(data, dict) else ""
        url = str(data.get("events_url") or "") or None if isinstance(data, dict) else None
    if not value or any(c.isspace() or ord(c) < 32 for c in value):
        raise PagerDutyUnavailable("the PagerDuty secret holds no routing key")
    if url is not None:
        parts = urlsplit(url)
        if not (parts.scheme == "https" and parts.hostname) and not _loopback(url):
            raise PagerDutyUnavailable("the PagerDuty secret's events_url is not an https:// URL")
    return value, url


def _loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS


class _PlainHttp(httpx2.HTTPTransport):
    """Plain HTTP to a server on this machine (a local stand-in for PagerDuty): the client accepts only
    https:// base URLs, so the request is addressed https:// and sent as http:// here."""

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme="http")
        return super().handle_request(request)


class PagerDutyEvents:
    """Events API v2 over one integration: trigger, resolve, each with the incident's `dedup_key`."""

    def __init__(self, secretsmanager_client: Any, secret_name: str, *, timeout_seconds: float = TIMEOUT_SECONDS):
        self._provider = SecretsProvider(boto3_client=secretsmanager_client)
        self._name = secret_name
        self._timeout = timeout_seconds
        self._clients: dict[tuple[str, str | None], EventsApiV2Client] = {}

    @property
    def worst_case_seconds(self) -> float:
        return worst_case_seconds(self._timeout)

    def send(self, action: str, dedup_key: str, event: dict[str, Any]) -> None:
        """One event (`action`: trigger | resolve) with `event`'s other properties (payload, links)."""
        client = self._client()
        try:
            client.send_event(action, dedup_key=dedup_key, **event)
        except HttpError as error:
            status = error.response.status_code if error.response is not None else 0
            if status in CONFIGURATION_STATUSES:
                raise PagerDutyUnavailable(
                    f"PagerDuty refused the routing key in secret {self._name!r} (HTTP {status})"
                ) from None
            if status == 429:
                raise PagerDutyDown("PagerDuty is rate limiting (HTTP 429 after a retry)") from None
            raise PagerDutyDeliveryError(f"PagerDuty did not accept the event (HTTP {status})") from None
        except PagerDutyClientError as error:  # no connection, no answer in time (the client's Error)
            raise PagerDutyDown(f"PagerDuty cannot be reached: {type(error.__cause__ or error).__name__}") from None

    def _client(self) -> EventsApiV2Client:
        key, url = self._routing_key()
        client = self._clients.get((key, url))
        if client is None:
            if url is not None and _loopback(url):
                client = EventsApiV2Client(key, base_url="https" + url[4:], transport=_PlainHttp())
            else:
                client = EventsApiV2Client(key, base_url=url)
            client.timeout = self._timeout  # type: ignore[assignment]  # the client declares an int; httpx takes a float
            client.max_network_attempts = 0  # a connection error is raised at once: PagerDutyDown
            client.sleep_timer = RETRY_WAIT_SECONDS
            client.stagger_cooldown = 0
            client.retry = {status: 1 for status in RETRIED_STATUSES}
            self._clients = {(key, url): client}  # a rotated key replaces the old client
        return client

    def _routing_key(self) -> tuple[str, str | None]:
        try:
            value = self._provider.get(self._name, max_age=SECRET_MAX_AGE_SECONDS)
        except GetParameterError as error:
            cause = error.__context__
            code = cause.response.get("Error", {}).get("Code", "") if isinstance(cause, ClientError) else ""
            if code in CONFIGURATION_ERROR_CODES:
                raise PagerDutyUnavailable(
                    f"PagerDuty secret {self._name!r} cannot be read ({code}): check that it exists and that "
                    "the function's role may read it"
                ) from None
            raise PagerDutyDeliveryError(f"PagerDuty secret {self._name!r} could not be read now ({code})") from None
        if not isinstance(value, str):
            raise PagerDutyUnavailable(f"PagerDuty secret {self._name!r} holds binary data, not a routing key")
        try:
            return routing_key_from_secret(value)
        except PagerDutyUnavailable as error:
            raise PagerDutyUnavailable(f"PagerDuty secret {self._name!r}: {error}") from None
