"""Context validation: each bad value stops synth with an error naming the key."""

from __future__ import annotations

import json

import pytest

from infra.config import KEYS, PREFIX, ConfigError, WatchdogConfig, load_config
from tests.infra.conftest import CHANNEL, ROOT

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_cdk_json_defaults_are_valid_and_documented_once_a_channel_is_given():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    channel = {"watchdog:alert_emails": "oncall@example.com"}
    assert load_config({**context, **channel}) == WatchdogConfig(alert_emails=("oncall@example.com",))
    docs = (ROOT / "docs" / "configuration.md").read_text()
    for key in (PREFIX + k.name for k in KEYS):
        assert f"`{key}`" in docs, f"{key} is not documented in docs/configuration.md"


def test_cdk_json_as_shipped_refuses_a_watchdog_that_tells_nobody_and_says_how_to_fix_it():
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    with pytest.raises(ConfigError) as refused:
        load_config(context)
    message = str(refused.value)
    assert "watchdog:alert_emails and watchdog:slack_secret_name are both empty" in message
    assert "-c watchdog:alert_emails=oncall@example.com" in message
    assert "-c watchdog:slack_secret_name=" in message


@pytest.mark.parametrize(
    "channel",
    [{"watchdog:alert_emails": ["a@example.com"]}, {"watchdog:slack_secret_name": "team/slack"}],
)
def test_one_channel_is_enough(channel):
    load_config(channel)


def test_batching_defaults_to_no_window_and_refuses_a_batch_larger_than_ten():
    config = load_config(CHANNEL)
    assert (config.batch_size, config.batching_window_seconds) == (10, 0)
    assert load_config({**CHANNEL, "watchdog:batching_window_seconds": "5"}).batching_window_seconds == 5
    with pytest.raises(ConfigError, match="watchdog:batch_size"):
        load_config({**CHANNEL, "watchdog:batch_size": "11"})


def test_concurrency_defaults_to_an_event_source_cap_without_reservation():
    config = load_config(CHANNEL)
    assert (config.max_concurrency, config.reserved_concurrency) == (5, None)


def test_reserved_concurrency_may_equal_max_concurrency_and_empty_means_unset():
    assert load_config({**CHANNEL, "watchdog:reserved_concurrency": 5}).reserved_concurrency == 5
    assert load_config({**CHANNEL, "watchdog:reserved_concurrency": ""}).reserved_concurrency is None


def test_max_concurrency_above_reserved_concurrency_names_both_keys():
    with pytest.raises(ConfigError) as refused:
        load_config({**CHANNEL, "watchdog:reserved_concurrency": "4", "watchdog:max_concurrency": "10"})
    assert "watchdog:max_concurrency (10) must be at most watchdog:reserved_concurrency (4)" in str(refused.value)


def test_a_slack_key_without_a_slack_secret_is_refused():
    with pytest.raises(ConfigError, match="slack_secret_kms_key_arn is set but watchdog:slack_secret_name is empty"):
        load_config({**CHANNEL, "watchdog:slack_secret_kms_key_arn": KEY_ARN})


@pytest.mark.parametrize(
    "key_arn",
    [KEY_ARN, "arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"],
)
def test_kms_key_arns_are_accepted(key_arn):
    config = load_config({"watchdog:slack_secret_name": "team/slack", "watchdog:slack_secret_kms_key_arn": key_arn})
    assert config.slack_secret_kms_key_arn == key_arn


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        ({"team": "platform", "cost-center": "42"}, (("team", "platform"), ("cost-center", "42"))),
        ('{"team": "platform"}', (("team", "platform"),)),
        ("team=platform, cost-center=42", (("team", "platform"), ("cost-center", "42"))),
        ("owner=a=b", (("owner", "a=b"),)),
        ("", ()),
    ],
)
def test_tags_are_a_json_object_or_key_value_pairs(value, tags):
    assert load_config({**CHANNEL, "watchdog:tags": value}).tags == tags


def test_command_line_strings_are_accepted():
    config = load_config(
        {
            "watchdog:alert_emails": "a@example.com, b@example.org",
            "watchdog:reserved_concurrency": "8",
            "watchdog:max_concurrency": "8",
            "watchdog:tracing": "true",
            "watchdog:mode": "enforce",
        }
    )
    assert (config.alert_emails, config.reserved_concurrency, config.max_concurrency, config.tracing, config.mode) == (
        ("a@example.com", "b@example.org"),
        8,
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
            "watchdog:mode: unknown mode 'yolo'; expected one of notify, dry-run, approve, enforce",
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
        ("watchdog:reserved_concurrency", 1, r"watchdog:reserved_concurrency: 1 is out of range 2\.\.1000"),
        ("watchdog:max_concurrency", 1001, r"watchdog:max_concurrency: 1001 is out of range 2\.\.1000"),
        ("watchdog:max_concurrency", 1, r"watchdog:max_concurrency: 1 is out of range 2\.\.1000"),
        (
            "watchdog:slack_secret_kms_key_arn",
            "arn:aws:kms:eu-west-1:123456789012:alias/slack",
            "watchdog:slack_secret_kms_key_arn: 'arn:aws:kms:eu-west-1:123456789012:alias/slack' is not a KMS key ARN",
        ),
        (
            "watchdog:slack_secret_kms_key_arn",
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "watchdog:slack_secret_kms_key_arn: '1234abcd-12ab-34cd-56ef-1234567890ab' is not a KMS key ARN",
        ),
        ("watchdog:tags", "team", "watchdog:tags: 'team' must be a JSON object or k=v pairs"),
        ("watchdog:tags", ["a=b"], "watchdog:tags: expected a JSON object or k=v,k2=v2, got list"),
        ("watchdog:tags", '{"team": ', "watchdog:tags: not valid JSON"),
        ("watchdog:tags", "aws:owner=me", "watchdog:tags: 'aws:owner' is not a valid tag key"),
        ("watchdog:tags", "team=a*b", r"watchdog:tags: 'a\*b' \(tag 'team'\) is not a valid tag value"),
        ("watchdog:tags", "app=other", "watchdog:tags: the tag 'app' is set by the stack"),
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
        load_config({**CHANNEL, key: value})


def test_a_webhook_url_given_as_the_secret_name_is_refused_with_a_hint():
    with pytest.raises(ConfigError, match="never the URL itself"):
        load_config({"watchdog:slack_secret_name": "https://hooks.slack.com"})


def test_slack_bot_secret_and_channel_go_together():
    from infra.config import ConfigError, load_config

    config = load_config({"watchdog:slack_bot_secret_name": "team/bot", "watchdog:slack_channel": "C0123ABCD9"})
    assert (config.slack_bot_secret_name, config.slack_channel) == ("team/bot", "C0123ABCD9")
    with pytest.raises(ConfigError, match="slack_channel go together"):
        load_config({"watchdog:slack_bot_secret_name": "team/bot", "watchdog:alert_emails": "a@example.com"})
    with pytest.raises(ConfigError, match="is not a Slack channel"):
        load_config({"watchdog:slack_channel": "general channel"})


def test_queue_senders_are_role_arns():
    role = "arn:aws:iam::123456789012:role/ops-redrive"
    assert load_config({"watchdog:queue_senders": role, "watchdog:alert_emails": "a@example.com"}).queue_senders == (
        role,
    )
    with pytest.raises(ConfigError, match="watchdog:queue_senders: 'arn:aws:iam::123456789012:user/bob'"):
        load_config({"watchdog:queue_senders": ["arn:aws:iam::123456789012:user/bob"]})


def test_pagerduty_secret_name_is_a_secret_name():
    config = load_config({"watchdog:pagerduty_secret_name": "team/pagerduty", "watchdog:alert_emails": "a@example.com"})
    assert config.pagerduty_secret_name == "team/pagerduty"
    assert load_config({"watchdog:alert_emails": "a@example.com"}).pagerduty_secret_name == ""  # no PagerDuty
