"""Context validation: each bad value stops synth with an error naming the key."""

from __future__ import annotations

import json

import pytest

from infra.config import ConfigError, WatchdogConfig, load_config
from tests.infra.conftest import ROOT


def test_cdk_json_defaults_are_valid_and_documented():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    assert load_config(context) == WatchdogConfig()
    docs = (ROOT / "docs" / "configuration.md").read_text()
    for key in (k for k in context if k.startswith("watchdog:")):
        assert f"`{key}`" in docs, f"{key} is not documented in docs/configuration.md"


def test_command_line_strings_are_accepted():
    config = load_config(
        {
            "watchdog:alert_emails": "a@example.com, b@example.org",
            "watchdog:reserved_concurrency": "8",
            "watchdog:tracing": "true",
            "watchdog:mode": "enforce",
        }
    )
    assert (config.alert_emails, config.reserved_concurrency, config.tracing, config.mode) == (
        ("a@example.com", "b@example.org"),
        8,
        True,
        "enforce",
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "watchdog:mode",
            "yolo",
            "watchdog:mode: unknown mode 'yolo'; expected one of notify, dry-run, enforce",
        ),
        (
            "watchdog:alert_emails",
            ["oncall@example"],
            "watchdog:alert_emails: 'oncall@example' is not a valid email",
        ),
        ("watchdog:alert_emails", {"a": 1}, "watchdog:alert_emails: expected a list of email addresses"),
        (
            "watchdog:slack_secret_name",
            "slack webhook",
            "watchdog:slack_secret_name: 'slack webhook' is not a valid Secrets Manager name",
        ),
        (
            "watchdog:runbook_base_url",
            "ftp://x",
            "watchdog:runbook_base_url: 'ftp://x' must be an https:// URL",
        ),
        (
            "watchdog:log_retention_days",
            31,
            "watchdog:log_retention_days: 31 is not a CloudWatch Logs retention",
        ),
        ("watchdog:reserved_concurrency", 1, r"watchdog:reserved_concurrency: 1 is out of range 2\.\.100"),
        (
            "watchdog:reserved_concurrency",
            "five",
            "watchdog:reserved_concurrency: 'five' is not a whole number",
        ),
        ("watchdog:tracing", "yes", "watchdog:tracing: 'yes' is not true or false"),
        ("watchdog:alert_email", [], "watchdog:alert_email: unknown context key"),
    ],
)
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load_config({key: value})


def test_a_webhook_url_given_as_the_secret_name_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="never the URL itself"):
        load_config({"watchdog:slack_secret_name": "https://hooks.slack.com"})
