"""Containment's context keys: defaults, ranges and the kill-switch parameter name."""

from __future__ import annotations

import pytest

from infra.config import ConfigError, load_config

CHANNEL = {"watchdog:alert_emails": "oncall@example.com"}


def test_containment_defaults_are_thirty_minutes_ten_an_hour_and_the_documented_parameter() -> None:
    config = load_config(CHANNEL)
    assert (config.cooldown_minutes, config.max_actions_per_hour) == (30, 10)
    assert config.kill_switch_parameter == "/ecs-watchdog/kill-switch"


def test_values_from_the_command_line_are_parsed() -> None:
    config = load_config(
        {
            **CHANNEL,
            "watchdog:cooldown_minutes": "1440",
            "watchdog:max_actions_per_hour": "1",
            "watchdog:kill_switch_parameter": "/platform/ecs_watchdog.off",
        }
    )
    assert (config.cooldown_minutes, config.max_actions_per_hour) == (1440, 1)
    assert config.kill_switch_parameter == "/platform/ecs_watchdog.off"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("watchdog:cooldown_minutes", "0"),
        ("watchdog:cooldown_minutes", "1441"),
        ("watchdog:max_actions_per_hour", "0"),
        ("watchdog:max_actions_per_hour", "1001"),
        ("watchdog:max_actions_per_hour", "ten"),
        ("watchdog:kill_switch_parameter", "kill-switch"),
        ("watchdog:kill_switch_parameter", "/aws/reserved"),
        ("watchdog:kill_switch_parameter", "/ecs watchdog/off"),
        ("watchdog:kill_switch_parameter", "/trailing/"),
    ],
)
def test_bad_values_stop_synth_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        load_config({**CHANNEL, key: value})


def test_approve_mode_needs_the_slack_bot_and_the_signing_secret_and_takes_an_approval_window() -> None:
    with pytest.raises(ConfigError, match="watchdog:mode=approve needs watchdog:slack_bot_secret_name"):
        load_config({**CHANNEL, "watchdog:mode": "approve"})
    bot = {"watchdog:slack_bot_secret_name": "ecs-watchdog/slack-bot", "watchdog:slack_channel": "#alerts"}
    # The interactivity function carries approvals out: without it no proposal could ever be approved.
    with pytest.raises(ConfigError, match="watchdog:mode=approve needs watchdog:slack_signing_secret_name"):
        load_config({**CHANNEL, **bot, "watchdog:mode": "approve"})
    bot["watchdog:slack_signing_secret_name"] = "ecs-watchdog/slack-signing"
    config = load_config({**CHANNEL, **bot, "watchdog:mode": "approve", "watchdog:approval_minutes": "15"})
    assert (config.mode, config.approval_minutes) == ("approve", 15)
    assert load_config(CHANNEL).approval_minutes == 60
