"""A configuration mistake at `cdk synth` is one line naming key, value and what is allowed, with the key
or value probably meant; a key without its `watchdog:` prefix is a warning, not silence."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

import app
from infra.config import ConfigError, context_warnings, load_config
from tests.infra.conftest import CHANNEL


def synth_with(monkeypatch: pytest.MonkeyPatch, context: dict[str, object]) -> int:
    # The jsii runtime is already running (it keeps the environment it started with): context goes in directly.
    monkeypatch.delenv("CDK_DEBUG", raising=False)
    return app.main(cdk.App(context=context))


def test_a_bad_value_stops_synth_in_one_line_with_exit_status_one(monkeypatch, capsys):
    assert synth_with(monkeypatch, {**CHANNEL, "watchdog:mode": "enforcee"}) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "watchdog:mode: unknown mode 'enforcee'; expected one of notify, dry-run, approve, enforce" in err
    assert "did you mean 'enforce'?" in err


def test_the_bare_cdk_json_says_what_to_set_in_one_line(monkeypatch, capsys):
    assert synth_with(monkeypatch, {}) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "watchdog:alert_emails and watchdog:slack_secret_name are both empty" in err


def test_cdk_debug_shows_the_traceback(monkeypatch):
    monkeypatch.setenv("CDK_DEBUG", "true")
    with pytest.raises(ConfigError, match="'not-an-email' is not a valid email address"):
        app.main(cdk.App(context={**CHANNEL, "watchdog:alert_emails": "not-an-email"}))


def test_a_key_without_its_prefix_is_a_warning_naming_the_key_meant(monkeypatch, capsys):
    synth_with(monkeypatch, {"mode": "enforce"})  # no channel either: stops after the warning
    err = capsys.readouterr().err
    assert "warning: context key 'mode' is not read (no 'watchdog:' prefix): did you mean watchdog:mode?" in err
    assert "(-c watchdog:mode=enforce)" in err


def test_cdk_keys_and_feature_flags_are_not_warned_about():
    context = {"@aws-cdk/core:newStyleStackSynthesis": True, "aws:cdk:enable-path-metadata": True, "cdk": 1}
    assert context_warnings({**context, **CHANNEL}) == []


def test_a_mistyped_key_names_the_key_meant_instead_of_listing_all():
    with pytest.raises(ConfigError) as refused:
        load_config({**CHANNEL, "watchdog:max_concurency": "4"})
    assert str(refused.value) == (
        "watchdog:max_concurency: unknown context key; did you mean watchdog:max_concurrency? "
        "(all keys: docs/configuration.md)"
    )


def test_a_value_the_parser_cannot_read_names_key_and_value():
    with pytest.raises(ConfigError) as refused:
        load_config({"watchdog:alert_emails": "[oncall@example.com"})
    assert str(refused.value).startswith("watchdog:alert_emails: cannot read '[oncall@example.com'")


def test_approve_mode_in_organization_mode_stops_synth_saying_why(monkeypatch, capsys):
    member = {"watchdog:deployment": "member", "watchdog:hub_account": "111122223333", "watchdog:mode": "approve"}
    assert synth_with(monkeypatch, {**CHANNEL, **member}) == 1
    assert "watchdog:mode=approve is not available with watchdog:deployment=hub or member" in capsys.readouterr().err
