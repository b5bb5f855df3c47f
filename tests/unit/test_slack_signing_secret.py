"""What the signing secret's value may hold: the secret itself or JSON naming it; anything else is refused
saying what is wrong, never the value."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.aws.slack_signing_secret import SigningSecretUnavailable, signing_secret_from_secret

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.mark.parametrize("value", [SECRET, f"  {SECRET}\n", json.dumps({"signing_secret": SECRET, "note": "x"})])
def test_the_secret_itself_or_json_naming_it(value):
    assert signing_secret_from_secret(value) == SECRET


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "is not [A-Za-z0-9]{16,128}"),
        (json.dumps({"bot_token": "xoxb-1-2"}), 'JSON has no "signing_secret" key'),
        ("{not json", "neither the secret itself nor valid JSON"),
        ("xoxb-1111-2222-abcd", "holds a Slack token or a URL"),
        ("https://hooks.slack.com/services/T/B/x", "holds a Slack token or a URL"),
        (f"{SECRET[:16]} {SECRET[16:]}", "whitespace or a control character"),
        ("8f742231-b10e-8888", "Slack's are 32 hexadecimal characters"),
    ],
)
def test_anything_else_is_refused_saying_why_without_the_value(value, why):
    with pytest.raises(SigningSecretUnavailable) as refused:
        signing_secret_from_secret(value)
    assert why in str(refused.value)
    assert SECRET[:16] not in str(refused.value)
