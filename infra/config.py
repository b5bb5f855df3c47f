"""Every CDK context key the watchdog reads: its default, its meaning and its validation.

Context values come from cdk.json (typed JSON) or from `cdk deploy -c key=value` (always strings),
so each key accepts both. A bad value stops synth with an error that names the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "watchdog:"
MODES = ("notify", "dry-run", "enforce")
# The values CloudWatch Logs accepts for a retention period, in days.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@\-]{1,512}$")


class ConfigError(ValueError):
    """A context value is invalid; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class WatchdogConfig:
    """The validated configuration of one watchdog deployment (one account and region)."""

    mode: str = "dry-run"
    alert_emails: tuple[str, ...] = ()
    slack_secret_name: str = "ecs-watchdog/slack-webhook"
    runbook_base_url: str = ""
    log_retention_days: int = 30
    reserved_concurrency: int = 5
    queue_max_receive_count: int = 5
    tracing: bool = False
    failure_threshold: int = 3
    crash_loop_window_minutes: int = 15
    stuck_deployment_minutes: int = 30
    correlated_services: int = 5
    correlation_window_minutes: int = 10


@dataclass(frozen=True)
class _Key:
    name: str
    parse: Callable[[str, Any], Any]
    doc: str


def _mode(key: str, value: Any) -> str:
    if value not in MODES:
        raise ConfigError(f"{key}: unknown mode {value!r}; expected one of {', '.join(MODES)}")
    return str(value)


def _emails(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = json.loads(value) if value.strip().startswith("[") else [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of email addresses, got {type(value).__name__}")
    emails = tuple(str(v).strip() for v in value)
    for email in emails:
        if not _EMAIL.match(email):
            raise ConfigError(f"{key}: {email!r} is not a valid email address")
    return emails


def _secret_name(key: str, value: Any) -> str:
    value = str(value)
    if value.startswith(("https://", "http://")):
        raise ConfigError(f"{key}: give the NAME of the secret holding the webhook URL, never the URL itself")
    if value and not _SECRET_NAME.match(value):
        raise ConfigError(f"{key}: {value!r} is not a valid Secrets Manager name (letters, digits, /_+=.@-)")
    return value


def _url(key: str, value: Any) -> str:
    value = str(value)
    if value and not re.match(r"^https://[^\s]+$", value):
        raise ConfigError(f"{key}: {value!r} must be an https:// URL (or empty)")
    return value


def _int_in(low: int, high: int) -> Callable[[str, Any], int]:
    def parse(key: str, value: Any) -> int:
        try:
            number = int(str(value), 10)
        except ValueError:
            raise ConfigError(f"{key}: {value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(f"{key}: {number} is out of range {low}..{high}")
        return number

    return parse


def _retention(key: str, value: Any) -> int:
    number = _int_in(1, 3653)(key, value)
    if number not in LOG_RETENTION_DAYS:
        raise ConfigError(f"{key}: {number} is not a CloudWatch Logs retention; use one of {LOG_RETENTION_DAYS}")
    return number


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ConfigError(f"{key}: {value!r} is not true or false")


KEYS: tuple[_Key, ...] = (
    _Key("mode", _mode, "notify: only tell people; dry-run: also say what containment would do; enforce: act"),
    _Key("alert_emails", _emails, "email addresses subscribed to the alerts topic (list, or comma-separated)"),
    _Key(
        "slack_secret_name",
        _secret_name,
        "Secrets Manager secret holding the Slack webhook URL; empty: no Slack",
    ),
    _Key("runbook_base_url", _url, "https URL that docs/runbooks/<category>.md is appended to in messages"),
    _Key("log_retention_days", _retention, "retention of the watchdog's own Lambda logs"),
    _Key("reserved_concurrency", _int_in(2, 100), "reserved concurrency of the events function (= SQS max)"),
    _Key("queue_max_receive_count", _int_in(1, 100), "deliveries of a record before it moves to the DLQ"),
    _Key("tracing", _bool, "X-Ray tracing of the functions (costs ~350 ms of cold start)"),
    _Key("failure_threshold", _int_in(1, 1000), "failures that open an incident (service tag ecs-watchdog:threshold)"),
    _Key("crash_loop_window_minutes", _int_in(1, 1440), "window for same-cause failures of a once-healthy revision"),
    _Key("stuck_deployment_minutes", _int_in(1, 10080), "a deployment IN_PROGRESS longer than this is stuck"),
    _Key(
        "correlated_services", _int_in(2, 1000), "services failing for one cause at once that make an account incident"
    ),
    _Key("correlation_window_minutes", _int_in(1, 1440), "window in which those services must open incidents"),
)


def load_config(context: Mapping[str, Any]) -> WatchdogConfig:
    """Validate every `watchdog:*` key found in the context; unknown `watchdog:` keys are an error."""
    known = {PREFIX + k.name for k in KEYS}
    unknown = sorted(k for k in context if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown context key; known keys: {', '.join(sorted(known))}")
    values = {k.name: k.parse(PREFIX + k.name, context[PREFIX + k.name]) for k in KEYS if PREFIX + k.name in context}
    return WatchdogConfig(**values)
