"""Every CDK context key the watchdog reads: its default, its meaning and its validation.

Context values come from cdk.json (typed JSON) or from `cdk deploy -c key=value` (always strings),
so each key accepts both. A bad value stops synth with an error that names the key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ecs_watchdog.flow import event_source
from infra.config_checks import parse_value, unknown_key_message, unprefixed_key_warnings, value_hint

PREFIX = "watchdog:"
MODES = ("notify", "dry-run", "approve", "enforce")
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
# A KMS key ARN (not an alias: IAM matches kms:Decrypt against the key's ARN); single- or multi-Region key id.
_KMS_KEY_ARN = re.compile(
    r"^arn:aws[a-z\-]*:kms:(?P<region>[a-z0-9\-]+):\d{12}:key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$"
)
# AWS tag rules: keys 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @.
_TAG_KEY = re.compile(r"^[\w .:/=+\-@]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+\-@]{0,256}$")
# The SSM parameter that stops containment without a redeploy (the stack creates it, value `off`).
DEFAULT_KILL_SWITCH_PARAMETER = "/ecs-watchdog/kill-switch"
# SSM parameter names: a path of letters, digits and _.-/ segments, at most 1011 characters with the slash.
_PARAMETER_NAME = re.compile(r"^/[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")
# The tag the stack puts on every resource; `watchdog:tags` adds to it and may not replace it.
APP_TAG = ("app", "ecs-watchdog")


class ConfigError(ValueError):
    """A context value is invalid; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class WatchdogConfig:
    """The validated configuration of one watchdog deployment (one account and region)."""

    mode: str = "dry-run"
    alert_emails: tuple[str, ...] = ()
    slack_secret_name: str = ""
    slack_secret_kms_key_arn: str = ""
    runbook_base_url: str = ""
    log_retention_days: int = 30
    max_concurrency: int = 5
    # The events queue's batches: a failure waits at most the window before the function sees it.
    batch_size: int = event_source.BATCH_SIZE
    batching_window_seconds: int = event_source.BATCHING_WINDOW_SECONDS
    reserved_concurrency: int | None = None
    queue_max_receive_count: int = 5
    tracing: bool = False
    failure_threshold: int = 3
    crash_loop_window_minutes: int = 15
    stuck_deployment_minutes: int = 30
    correlated_services: int = 5
    correlation_window_minutes: int = 10
    tags: tuple[tuple[str, str], ...] = ()
    probe_read_secret_values: bool = False
    create_test_event_registry: bool = False
    cooldown_minutes: int = 30
    max_actions_per_hour: int = 10
    approval_minutes: int = 60
    kill_switch_parameter: str = DEFAULT_KILL_SWITCH_PARAMETER
    slack_bot_secret_name: str = ""
    slack_channel: str = ""
    pagerduty_secret_name: str = ""
    sweep_minutes: int = 5
    queue_senders: tuple[str, ...] = ()
    # Slack's interactivity (infra/interactions.py): the buttons of the bot's living message.
    slack_signing_secret_name: str = ""
    slack_allowed_users: tuple[str, ...] = ()
    slack_allowed_usergroup: str = ""
    slack_reserved_concurrency: int | None = None


@dataclass(frozen=True)
class _Key:
    name: str
    parse: Callable[[str, Any], Any]
    doc: str


def _mode(key: str, value: Any) -> str:
    if value not in MODES:
        hint = value_hint(value, MODES)
        raise ConfigError(f"{key}: unknown mode {value!r}; expected one of {', '.join(MODES)}{hint}")
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


def _kms_key_arn(key: str, value: Any) -> str:
    value = str(value)
    if value and not _KMS_KEY_ARN.match(value):
        raise ConfigError(
            f"{key}: {value!r} is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; not an alias)"
        )
    return value


def kms_key_region(key_arn: str) -> str:
    """The region of a KMS key ARN that `watchdog:slack_secret_kms_key_arn` accepted."""
    match = _KMS_KEY_ARN.match(key_arn)
    if match is None:
        raise ConfigError(f"{key_arn!r} is not a KMS key ARN")
    return match["region"]


def _optional(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """Empty or null means unset (so `-c key=` on the command line undoes a value in cdk.json)."""

    def parse_or_none(key: str, value: Any) -> Any:
        return None if value is None or str(value).strip() == "" else parse(key, value)

    return parse_or_none


def _tags(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ConfigError(f"{key}: not valid JSON ({error.msg})") from None
        else:
            pairs = [p for p in text.split(",") if p.strip()]
            if any("=" not in p for p in pairs):
                raise ConfigError(f"{key}: {value!r} must be a JSON object or k=v pairs separated by commas")
            value = dict(p.split("=", 1) for p in pairs)
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a JSON object or k=v,k2=v2, got {type(value).__name__}")
    tags = tuple((str(k).strip(), str(v).strip()) for k, v in value.items())
    for tag_key, tag_value in tags:
        if not _TAG_KEY.match(tag_key) or tag_key.lower().startswith("aws:"):
            raise ConfigError(f"{key}: {tag_key!r} is not a valid tag key (1-128 of letters, digits, _.:/=+-@)")
        if not _TAG_VALUE.match(tag_value):
            raise ConfigError(f"{key}: {tag_value!r} (tag {tag_key!r}) is not a valid tag value")
        if tag_key == APP_TAG[0]:
            raise ConfigError(f"{key}: the tag {tag_key!r} is set by the stack ({APP_TAG[0]}={APP_TAG[1]})")
    return tags


def _parameter_name(key: str, value: Any) -> str:
    value = str(value).strip()
    if len(value) > 1011 or not _PARAMETER_NAME.match(value) or value.lower().startswith(("/aws", "/ssm")):
        raise ConfigError(
            f"{key}: {value!r} is not a usable SSM parameter name (a path like /ecs-watchdog/kill-switch of "
            "letters, digits and _.-; not under /aws or /ssm)"
        )
    return value


def _slack_channel(key: str, value: Any) -> str:
    value = str(value).strip()
    if value and not re.match(r"^(#[a-z0-9_\-]{1,80}|[CG][A-Z0-9]{8,})$", value):
        raise ConfigError(f"{key}: {value!r} is not a Slack channel (#name in lower case, or an id like C0123ABCD)")
    return value


# Slack ids: people are U... (or W... in an Enterprise Grid), user groups S... (upper-case letters and digits).
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_SLACK_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")


def _slack_user_ids(key: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
    ids = tuple(str(v).strip() for v in items)
    for user_id in ids:
        if not _SLACK_USER_ID.match(user_id):
            hint = " (a user group's id goes in watchdog:slack_allowed_usergroup)" if user_id.startswith("S") else ""
            raise ConfigError(
                f"{key}: {user_id!r} is not a Slack user id (U... or W..., from the person's profile → "
                f"Copy member ID){hint}"
            )
    return ids


def _slack_usergroup(key: str, value: Any) -> str:
    value = str(value).strip()
    if value and not _SLACK_USERGROUP_ID.match(value):
        raise ConfigError(f"{key}: {value!r} is not a Slack user group id (S..., not its @handle)")
    return value


def _url(key: str, value: Any) -> str:
    value = str(value)
    if value and not re.match(r"^https://[^\s]+$", value):
        raise ConfigError(f"{key}: {value!r} must be an https:// URL (or empty)")
    return value


_ROLE_ARN = re.compile(r"^arn:aws[a-z\-]*:iam::\d{12}:role/[\w+=,.@\-/]{1,512}$")


def _role_arns(key: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [v for v in str(value).split(",") if v.strip()]
    arns = tuple(str(v).strip() for v in items)
    for arn in arns:
        if not _ROLE_ARN.match(arn):
            raise ConfigError(f"{key}: {arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return arns


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
    _Key(
        "mode",
        _mode,
        "notify: only tell people; dry-run (default): also report the exact call containment would make, "
        "make none; approve: decide as enforce, propose the action in Slack, make it when an allowed person "
        "approves (needs the Slack bot and the signing secret); enforce: roll back or scale to zero (the events "
        "function's IAM write permissions are granted only here; the Slack desk's in approve and enforce)",
    ),
    _Key("alert_emails", _emails, "email addresses subscribed to the alerts topic (list, or comma-separated)"),
    _Key(
        "slack_secret_name",
        _secret_name,
        "Secrets Manager secret holding the Slack webhook URL; empty: no Slack",
    ),
    _Key(
        "slack_secret_kms_key_arn",
        _kms_key_arn,
        "customer-managed KMS key the Slack secret is encrypted with; empty: the AWS-managed key",
    ),
    _Key("runbook_base_url", _url, "https URL that docs/runbooks/<category>.md is appended to in messages"),
    _Key("log_retention_days", _retention, "retention of the watchdog's own Lambda logs"),
    _Key("max_concurrency", _int_in(2, 1000), "most concurrent invocations the SQS event source starts"),
    _Key("batch_size", _int_in(1, 10), "most records per invocation of the events function (SQS batch size)"),
    _Key(
        "batching_window_seconds",
        _int_in(0, 300),
        "how long the SQS event source gathers a batch before invoking; 0: as soon as records arrive",
    ),
    _Key(
        "reserved_concurrency",
        _optional(_int_in(2, 1000)),
        "reserved concurrency of the events function; unset: none (>= max_concurrency when set)",
    ),
    _Key("queue_max_receive_count", _int_in(1, 100), "deliveries of a record before it moves to the DLQ"),
    _Key("tracing", _bool, "X-Ray tracing of the functions (costs ~350 ms of cold start)"),
    _Key("failure_threshold", _int_in(1, 1000), "failures that open an incident (service tag ecs-watchdog:threshold)"),
    _Key("crash_loop_window_minutes", _int_in(1, 1440), "window for same-cause failures of a once-healthy revision"),
    _Key("stuck_deployment_minutes", _int_in(1, 10080), "a deployment IN_PROGRESS longer than this is stuck"),
    _Key(
        "correlated_services", _int_in(2, 1000), "services failing for one cause at once that make an account incident"
    ),
    _Key("correlation_window_minutes", _int_in(1, 1440), "window in which those services must open incidents"),
    _Key("tags", _tags, "extra tags on every resource (JSON object, or k=v,k2=v2); app=ecs-watchdog is always set"),
    _Key(
        "probe_read_secret_values",
        _bool,
        "let the diagnose function read secret values to check they are JSON with the keys tasks use (never returned)",
    ),
    _Key(
        "create_test_event_registry",
        _bool,
        "create the EventBridge schema registry lambda-testevent-schemas (false: it exists in the account already)",
    ),
    _Key("cooldown_minutes", _int_in(1, 1440), "after an enforced action on a service, no other on it for this long"),
    _Key("max_actions_per_hour", _int_in(1, 1000), "enforced containment actions per account in any 60 minutes"),
    _Key("approval_minutes", _int_in(1, 1440), "approve mode: minutes a proposal can be approved from Slack"),
    _Key(
        "kill_switch_parameter",
        _parameter_name,
        "SSM String parameter the stack creates with value off; set it to on to stop containment at once",
    ),
    _Key(
        "slack_bot_secret_name",
        _secret_name,
        "Secrets Manager secret holding a Slack bot token (xoxb-...): one living message per incident",
    ),
    _Key("slack_channel", _slack_channel, "channel the Slack bot posts to (#name or id); needs slack_bot_secret_name"),
    _Key(
        "pagerduty_secret_name",
        _secret_name,
        "Secrets Manager secret holding a PagerDuty Events API v2 routing key: one page per incident; empty: none",
    ),
    _Key("sweep_minutes", _int_in(0, 1440), "minutes between scheduled sweeps of every service; 0: no sweep"),
    _Key(
        "queue_senders",
        _role_arns,
        "IAM role ARNs allowed to send to the events queue besides the watchdog's rules and function (e.g. the "
        "operator role that redrives parked records); everyone else is denied",
    ),
    _Key(
        "slack_signing_secret_name",
        _secret_name,
        "Secrets Manager secret holding the Slack app's signing secret: deploys the interactivity function (its "
        "Function URL is the output SlackInteractivityUrl) and the living message's buttons; needs the Slack bot",
    ),
    _Key(
        "slack_allowed_users",
        _slack_user_ids,
        "Slack user ids (U.../W..., list or comma-separated) who may press the watchdog's buttons; with "
        "slack_allowed_usergroup, either admits; neither: every click is refused, saying so",
    ),
    _Key(
        "slack_allowed_usergroup",
        _slack_usergroup,
        "a Slack user group id (S...) whose members may press the watchdog's buttons (the app needs usergroups:read)",
    ),
    _Key(
        "slack_reserved_concurrency",
        _optional(_int_in(1, 1000)),
        "reserved concurrency of the interactivity function (a flood of requests to its public URL cannot take "
        "more); unset: none, as accounts with a concurrency quota of 10 refuse any reservation",
    ),
)


def load_config(context: Mapping[str, Any]) -> WatchdogConfig:
    """Validate every `watchdog:*` key found in the context; unknown `watchdog:` keys are an error."""
    known = {PREFIX + k.name for k in KEYS}
    unknown = sorted(k for k in context if k.startswith(PREFIX) and k not in known)
    if unknown:
        raise ConfigError(unknown_key_message(unknown[0], known))
    values = {
        k.name: parse_value(k.parse, PREFIX + k.name, context[PREFIX + k.name], ConfigError)
        for k in KEYS
        if PREFIX + k.name in context
    }
    config = WatchdogConfig(**values)
    _check_combination(config)
    return config


def context_warnings(context: Mapping[str, Any], other_keys: Iterable[str] = ()) -> list[str]:
    """Context keys that look like watchdog keys without the `watchdog:` prefix (`-c mode=enforce`):
    CDK passes them on and the stack never reads them, so they are said out loud. `other_keys`: names
    read elsewhere (the organization's)."""
    return unprefixed_key_warnings(context, PREFIX, (*(k.name for k in KEYS), *other_keys))


def _check_combination(config: WatchdogConfig) -> None:
    """Rules between keys, each error naming every key involved."""
    told = (config.alert_emails, config.slack_secret_name, config.slack_bot_secret_name, config.pagerduty_secret_name)
    if not any(told):
        raise ConfigError(
            f"{PREFIX}alert_emails and {PREFIX}slack_secret_name are both empty: the watchdog would tell nobody. "
            f"Set at least one, e.g. `cdk deploy -c {PREFIX}alert_emails=oncall@example.com` and/or "
            f"`-c {PREFIX}slack_secret_name=ecs-watchdog/slack-webhook` (a secret you created; "
            f"or a PagerDuty routing key's secret in {PREFIX}pagerduty_secret_name), or put them in cdk.json"
        )
    if config.reserved_concurrency is not None and config.max_concurrency > config.reserved_concurrency:
        raise ConfigError(
            f"{PREFIX}max_concurrency ({config.max_concurrency}) must be at most {PREFIX}reserved_concurrency "
            f"({config.reserved_concurrency}): above it, throttled receives count against "
            f"{PREFIX}queue_max_receive_count and healthy events land in the DLQ"
        )
    if bool(config.slack_bot_secret_name) != bool(config.slack_channel):
        raise ConfigError(
            f"{PREFIX}slack_bot_secret_name and {PREFIX}slack_channel go together: the bot needs a token and a "
            "channel to post to (invite the app to the channel)"
        )
    if config.mode == "approve" and not config.slack_bot_secret_name:
        raise ConfigError(
            f"{PREFIX}mode=approve needs {PREFIX}slack_bot_secret_name and {PREFIX}slack_channel: a proposal is "
            "approved with a button on the Slack bot's message (a webhook's message takes no click back)"
        )
    if config.mode == "approve" and not config.slack_signing_secret_name:
        raise ConfigError(
            f"{PREFIX}mode=approve needs {PREFIX}slack_signing_secret_name: without the Slack app's signing secret "
            "there is no interactivity function, so no proposal could ever be approved"
        )
    interactive = ("slack_allowed_users", "slack_allowed_usergroup", "slack_reserved_concurrency")
    for name in interactive:
        if getattr(config, name) and not config.slack_signing_secret_name:
            raise ConfigError(
                f"{PREFIX}{name} is set but {PREFIX}slack_signing_secret_name is empty: without the app's signing "
                "secret there is no interactivity function to press buttons through"
            )
    if config.slack_signing_secret_name and not config.slack_bot_secret_name:
        raise ConfigError(
            f"{PREFIX}slack_signing_secret_name needs {PREFIX}slack_bot_secret_name and {PREFIX}slack_channel: "
            "the buttons are on the bot's living message (a webhook's message carries none)"
        )
    if config.slack_secret_kms_key_arn and not config.slack_secret_name:
        raise ConfigError(
            f"{PREFIX}slack_secret_kms_key_arn is set but {PREFIX}slack_secret_name is empty: "
            "the key only matters for the Slack secret"
        )
