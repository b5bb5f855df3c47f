"""Post to a Slack incoming webhook whose URL lives in Secrets Manager, with slack_sdk's WebhookClient.

The URL is a credential: it is read at run time through Powertools parameters, cached in memory for
five minutes (so a rotated URL is picked up without a deploy), checked on read (`https://` with a host,
no whitespace or control character inside: a pasted line break would otherwise end up in an HTTP
client error that quotes it), and never logged, never put in an exception message. slack_sdk logs the
full URL at INFO when a retry fires, and quotes the request in its ERROR lines, so each client gets a
logger of its own (`sdk_logger`): at WARNING, outside the logging tree, whose one handler blanks
the secret, Slack tokens, `Bearer ...` and webhook paths before passing the line on. Every post carries
`unfurl_links` / `unfurl_media` false: the watchdog's links are to consoles and runbooks, not previews.

What `SlackWebhook.post` does when things go wrong:
- 500, 502, 503, 504: retried up to twice, 0.5 s then 1 s apart (the stock handler knows 500/503 only);
  the last retry failing: `SlackDeliveryError` naming the status;
- 429: retried once, after Retry-After capped at 10 s; a second 429: `SlackDown` (Slack asks us to back off);
- any other non-2xx: `SlackDeliveryError` naming the status;
- no answer within the timeout (a read timeout; slack_sdk raises TimeoutError and does not retry it):
  `SlackDown`, not retried here. Slack may have taken the message, and it is sent again later: we risk
  a duplicate rather than a loss;
- a connection error (refused, unreachable, DNS): `SlackDown`, not retried here;
- the secret missing, unreadable (access denied, KMS) or not holding a URL: `SlackUnavailable`, a
  configuration fault no retry will fix; throttling or a Secrets Manager fault: `SlackDeliveryError`.

`SlackDown` means Slack is not taking messages at all just now: the outbox leaves Slack alone for the
rest of the invocation and keeps its messages for later (announce/outbox.py), so a Slack that accepts
connections and never answers costs one timeout per invocation, not one per message.

Worst case of one post, with the default 5 s timeout: 3 attempts x 5 s + 10 s + 1 s of waits = 26 s
(`worst_case_seconds`); the outbox does not start one with less than that left in the invocation.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from http.client import HTTPException, InvalidURL
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.webhook import WebhookClient

SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})
SERVER_ERROR_RETRIES = 2
SERVER_ERROR_FIRST_WAIT_SECONDS = 0.5
RATE_LIMIT_RETRIES = 1
RETRY_AFTER_CAP_SECONDS = 10.0
SECRET_MAX_AGE_SECONDS = 300
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

# Secrets Manager answers that mean the secret is missing, forbidden, undecryptable or deleted.
CONFIGURATION_ERROR_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "DecryptionFailure",
        "InvalidRequestException",
        "InvalidParameterException",
    }
)

Sleep = Callable[[float], None]


class SlackDeliveryError(RuntimeError):
    """Slack did not accept the message; the caller retries the event."""


class SlackUnavailable(SlackDeliveryError):
    """Slack cannot be reached until someone fixes the configuration (the webhook secret)."""


class SlackDown(SlackDeliveryError):
    """Slack is not taking messages just now (no answer in time, unreachable, rate limited after the
    retry): trying again within this invocation would only spend its time."""


def worst_case_seconds(timeout_seconds: float) -> float:
    """The longest one request with its retries can take: every attempt waits out its timeout, and the
    longest waits between them (a capped Retry-After, then the second server-error wait)."""
    attempts = 1 + max(SERVER_ERROR_RETRIES, RATE_LIMIT_RETRIES)
    waits = RETRY_AFTER_CAP_SECONDS + SERVER_ERROR_FIRST_WAIT_SECONDS * 2 ** (attempts - 2)
    return attempts * timeout_seconds + waits


# Set on every payload the watchdog posts: Slack would otherwise fetch and preview the linked pages.
NO_UNFURLING = {"unfurl_links": False, "unfurl_media": False}

_TOKEN = re.compile(r"xox[abposr]-[A-Za-z0-9-]+")
_BEARER = re.compile(r"Bearer\s+[^\s'\"]+", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s'\"<>]+")
_WEBHOOK_PATH = re.compile(r"/services/[^\s'\"<>]+")
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")
_INSIDE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")  # whitespace and C0/C1 controls, none allowed in a secret
MIN_SECRET_PIECE = 4  # pieces of a broken secret shorter than this are too common to blank everywhere
SDK_LOGGER_NAME = f"{__name__}.sdk"


def redact(text: str, *secrets: str) -> str:
    """`text` without `secrets` (whole, and each piece a line break or space cut them into), Slack tokens,
    `Bearer ...` credentials, URLs and webhook paths: safe to log or to put in an exception message."""
    for secret in secrets:
        pieces = {secret, *_BREAKS.split(secret)}
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= MIN_SECRET_PIECE:
                text = text.replace(piece, "<secret>")
    text = _BEARER.sub("Bearer <secret>", text)
    text = _TOKEN.sub("<token>", text)
    text = _URL.sub("<url>", text)
    return _WEBHOOK_PATH.sub("/services/<secret>", text)


class _Redacted(logging.Handler):
    """Passes slack_sdk's records on to the `ecs_watchdog.aws.slack.sdk` logger (and so to the root's
    handlers) with the secret and anything credential-shaped blanked, exception text included."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        safe = logging.makeLogRecord(
            {
                **record.__dict__,
                "msg": redact(text, self._secret),
                "args": None,
                "exc_info": None,
                "exc_text": None,
                "message": None,
            }
        )
        logging.getLogger(SDK_LOGGER_NAME).handle(safe)


class _SecretValuesBlanked(logging.Filter):
    """Drops the body from botocore's DEBUG line of a response that holds a secret's value: with the
    function's log level at DEBUG it would otherwise log the webhook URL or the bot token we read."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if any(isinstance(a, bytes) and (b'"SecretString"' in a or b'"SecretBinary"' in a) for a in args):
            record.args = tuple(b"<a secret's value: not logged>" if isinstance(a, bytes) else a for a in args)
        return True


_BOTOCORE_BODIES = logging.getLogger("botocore.parsers")
_SECRET_VALUES_BLANKED = _SecretValuesBlanked()


def sdk_logger(secret: str) -> logging.Logger:
    """A logger for one slack_sdk client using `secret`: at WARNING (slack_sdk's INFO and DEBUG lines show
    the URL and headers), outside the logging tree so nothing reaches a handler unredacted."""
    logger = logging.Logger(SDK_LOGGER_NAME, logging.WARNING)  # not from getLogger: no parent, no propagation
    logger.propagate = False
    logger.addHandler(_Redacted(secret))
    return logger


def has_unsafe_characters(value: str) -> bool:
    """Whether `value` holds whitespace or a control character anywhere."""
    return _INSIDE.search(value) is not None


def checked_webhook_url(value: str) -> str:
    """`value` if it is a usable webhook URL, else SlackUnavailable saying what is wrong (never the value).

    Accepted: `https://<host>/...` (Slack's are `https://hooks.slack.com/services/...`) without whitespace
    or control characters. `http://` only to a loopback host (127.0.0.1, ::1, localhost): the local Slack
    of the simulator and the tests; plain HTTP to anywhere else would send the credential in clear."""
    if has_unsafe_characters(value):
        raise SlackUnavailable("the webhook URL contains whitespace or a control character (a paste accident?)")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
    except ValueError:
        raise SlackUnavailable("the webhook URL cannot be parsed") from None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return value
    if parts.scheme != "https":
        raise SlackUnavailable("the webhook URL is not https:// (expected https://hooks.slack.com/...)")
    if not host:
        raise SlackUnavailable("the webhook URL has no host (expected https://hooks.slack.com/...)")
    return value


def webhook_url_from_secret(secret_string: str) -> str:
    """The webhook URL from the secret's value: the URL itself, or JSON with `webhook_url` / `url`.

    Surrounding whitespace of the value is ignored. Raises SlackUnavailable (without the value) when the
    secret holds no URL or one `checked_webhook_url` refuses.
    """
    value = secret_string.strip()
    if value.startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            raise SlackUnavailable("the Slack secret is neither a URL nor valid JSON") from None
        value = str(data.get("webhook_url") or data.get("url") or "") if isinstance(data, dict) else ""
    if not value.startswith(("https://", "http://")):
        raise SlackUnavailable("the Slack secret does not hold a webhook URL (expected https://...)")
    return checked_webhook_url(value)


class WebhookSecret:
    """The webhook URL held by a Secrets Manager secret, read through Powertools and cached."""

    def __init__(self, secretsmanager_client: Any, secret_name: str, max_age_seconds: int = SECRET_MAX_AGE_SECONDS):
        # A provider of our own: the module-level one would use the default session, not the caller's.
        self._provider = SecretsProvider(boto3_client=secretsmanager_client)
        _BOTOCORE_BODIES.addFilter(_SECRET_VALUES_BLANKED)  # once: addFilter skips a filter already there
        self._name = secret_name
        self._max_age = max_age_seconds

    def url(self) -> str:
        """The current URL; SlackUnavailable for a configuration fault, SlackDeliveryError for a transient one."""
        try:
            value = self._provider.get(self._name, max_age=self._max_age)
        except GetParameterError as error:
            raise self._read_failure(error.__context__) from None
        if not isinstance(value, str):
            raise SlackUnavailable(f"Slack secret {self._name!r} holds binary data, not a webhook URL")
        try:
            return webhook_url_from_secret(value)
        except SlackUnavailable as error:
            raise SlackUnavailable(f"Slack secret {self._name!r}: {error}") from None

    def _read_failure(self, cause: BaseException | None) -> SlackDeliveryError:
        # Powertools wraps every error in GetParameterError; the botocore error is its context.
        code = cause.response.get("Error", {}).get("Code", "") if isinstance(cause, ClientError) else ""
        if code in CONFIGURATION_ERROR_CODES:
            return SlackUnavailable(
                f"Slack secret {self._name!r} cannot be read ({code}): check that it exists and that the "
                "function's role may read it and decrypt it with its KMS key"
            )
        return SlackDeliveryError(
            f"Slack secret {self._name!r} could not be read just now ({code or type(cause).__name__})"
        )


class ServerErrorRetry(RetryHandler):
    """Retries 500, 502, 503 and 504 with exponential backoff; slack_sdk's own handler knows 500/503 only."""

    def __init__(self, sleep: Sleep, max_retry_count: int = SERVER_ERROR_RETRIES) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in SERVER_ERROR_STATUSES

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self._sleep(SERVER_ERROR_FIRST_WAIT_SECONDS * 2**state.current_attempt)
        state.increment_current_attempt()


class RateLimitRetry(RetryHandler):
    """Retries a 429 after Retry-After, capped so one delivery cannot outlast the function."""

    def __init__(
        self, sleep: Sleep, max_retry_count: int = RATE_LIMIT_RETRIES, cap_seconds: float = RETRY_AFTER_CAP_SECONDS
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._sleep = sleep
        self._cap = cap_seconds

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        self._sleep(min(retry_after_seconds(response), self._cap))
        state.increment_current_attempt()


def retry_after_seconds(response: HttpResponse | None) -> float:
    """Seconds the Retry-After header asks for; 1 s when it is absent or not a number of seconds."""
    headers = {name.lower(): values for name, values in (response.headers if response else {}).items()}
    values = headers.get("retry-after") or ["1"]
    value = values[0] if isinstance(values, list) else values
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0


class SlackWebhook:
    """Delivers Block Kit payloads to a Slack incoming webhook."""

    def __init__(self, webhook_url: Callable[[], str], *, timeout_seconds: float = 5.0, sleep: Sleep = time.sleep):
        """`webhook_url` is called on every post, so a rotated secret is followed; `sleep` waits between retries."""
        self._webhook_url = webhook_url
        self._timeout = timeout_seconds
        self._sleep = sleep

    @property
    def worst_case_seconds(self) -> float:
        """The longest one `post` can take (timeouts and waits between retries)."""
        return worst_case_seconds(self._timeout)

    @classmethod
    def from_secret(
        cls,
        secretsmanager_client: Any,
        secret_name: str,
        *,
        timeout_seconds: float = 5.0,
        sleep: Sleep = time.sleep,
    ) -> SlackWebhook:
        """A webhook whose URL is the value of `secret_name` (the URL, or JSON with `webhook_url` / `url`)."""
        secret = WebhookSecret(secretsmanager_client, secret_name)
        return cls(secret.url, timeout_seconds=timeout_seconds, sleep=sleep)

    def post(self, payload: dict[str, Any]) -> None:
        """POST the payload; return once Slack answers 2xx, else raise SlackDeliveryError (without the URL).

        SlackUnavailable (a SlackDeliveryError) means the secret is missing or wrong: retrying will not help;
        SlackDown means Slack is not taking messages just now (no answer, unreachable, rate limited).
        """
        url = self._webhook_url()
        client = WebhookClient(
            url,
            timeout=self._timeout,  # type: ignore[arg-type]  # typed int, passed on to urlopen, which takes a float
            logger=sdk_logger(url),
            retry_handlers=[ServerErrorRetry(self._sleep), RateLimitRetry(self._sleep)],
        )
        try:
            response = client.send_dict({**payload, **NO_UNFURLING})
        except TimeoutError:
            raise SlackDown(
                f"Slack did not answer within {self._timeout:g} s; it is sent again later, which may post it twice"
            ) from None
        except InvalidURL:  # an HTTPException, but a configuration fault: its message quotes the URL's path
            raise SlackUnavailable("the Slack URL was refused before sending (InvalidURL)") from None
        except (OSError, HTTPException) as error:
            reason = error.reason if isinstance(error, URLError) else error
            kind = type(reason if isinstance(reason, BaseException) else error).__name__
            raise SlackDown(f"Slack unreachable: {kind}") from None
        except (ValueError, SlackClientError) as error:
            # The HTTP client refused to send (a URL it cannot use); its message quotes the URL.
            raise SlackUnavailable(f"the webhook URL was refused before sending ({type(error).__name__})") from None
        if response.status_code == 429:
            raise SlackDown("Slack answered HTTP 429 (rate limited) after the retry")
        if not 200 <= response.status_code < 300:
            raise SlackDeliveryError(f"Slack answered HTTP {response.status_code}")
