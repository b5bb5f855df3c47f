"""Text from tasks and API errors reaches people inert (issue 27): no terminal escapes, no bidi or
zero-width tricks, no control characters, and no line break that could fake a line of ours."""

from __future__ import annotations

import re

from ecs_watchdog.announce.email import render_transition_sns, sns_attributes
from ecs_watchdog.announce.inert import inert
from ecs_watchdog.announce.slack_blocks import render_transition_slack
from ecs_watchdog.incidents.model import Explanation, IncidentKind, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef
from tests.unit.announce_fixtures import transition

HOSTILE = (
    "Essential container exited \x1b[31mRED\x1b[0m \x1b]8;;https://evil.example/\x07click\x1b]8;;\x07 "
    "\x07bell \u202etxt.exe\u202c zero\u200bwidth\ufeff\r\nFake line: all clear"
)
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufeff\u200e\u200f]")


def test_inert_drops_escape_sequences_and_shows_what_hides() -> None:
    text = inert(HOSTILE)
    assert "\x1b" not in text and "evil.example" not in text
    assert "<U+0007>bell" in text and "<U+202E>txt.exe" in text and "zero<U+200B>width" in text
    assert "\n" not in text and "⏎ Fake line" in text


def strings(value: object) -> list[str]:
    """Every string inside a Slack payload."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_slack_and_email_carry_no_hostile_character_from_a_stop_reason() -> None:
    opened = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED).model_copy(
        update={"summary": HOSTILE, "explanation": Explanation(evidence=[f"stoppedReason: {HOSTILE}"])}
    )
    ref = ServiceRef("123456789012", "us-east-1", "prod", "api")
    for text in strings(render_transition_slack(opened, ref)):
        assert not FORBIDDEN.search(text)
        assert "evil.example" not in text
        assert not any(line.startswith("Fake line") for line in text.splitlines())
    body = render_transition_sns(opened, ref).body
    assert not FORBIDDEN.search(body) and "evil.example" not in body
    assert not any(line.strip().startswith("Fake line") for line in body.splitlines())


def test_names_with_line_breaks_stay_on_their_line_in_headers_and_attributes() -> None:
    ref = ServiceRef("123456789012", "us-east-1", "prod\r\nX-Injected: 1", "api\u202e")
    opened = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
    header = render_transition_slack(opened, ref)["blocks"][0]["text"]["text"]
    assert "\n" not in header and "\r" not in header and "\u202e" not in header
    assert all("\n" not in v and "\r" not in v for v in sns_attributes(opened, ref).values())
    body = render_transition_sns(opened, ref).body
    assert not any(line.startswith("X-Injected") for line in body.splitlines())
