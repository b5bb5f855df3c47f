"""Hostile text (mentions, links, backticks, floods) never breaks Slack's limits or reaches people as markup."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_watchdog.announce.render import escape_mrkdwn, render_transition_slack, render_transition_sns
from ecs_watchdog.announce.slack_blocks import cut
from ecs_watchdog.incidents.model import Explanation, IncidentKind, Transition, TransitionKind
from tests.unit.announce_fixtures import DRY_RUN_ACTION, REF, transition, with_containment

HOSTILE = ["<!here>", "<!channel>", "@channel", "@Here", "<@U123>", "<https://evil.example|click>", "```", "&", "`x`"]
FLOOD = "&<>`" * 1200  # grows fourfold when escaped: well past every limit
hostile_text = st.lists(
    st.one_of(st.sampled_from([*HOSTILE, FLOOD]), st.text(max_size=40)), min_size=0, max_size=12
).map("".join)
OUR_LINK = re.compile(r"<https://[^<>|\s]+\|[A-Za-z ]+>")


def texts(payload: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for block in payload["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [f["text"] for f in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", [])]
    return found


def hostile_transition(summary: str, evidence: list[str], steps: list[str], probe: str) -> Transition:
    base = with_containment(transition(IncidentKind.CRASH_LOOP, TransitionKind.OPENED), DRY_RUN_ACTION)
    return base.model_copy(
        update={
            "summary": summary,
            "explanation": Explanation(evidence=evidence, next_steps=steps, runbook="docs/runbooks/oom.md"),
            "probes": [{"name": "probe", "status": "confirmed", "summary": probe}] * 30,
        }
    )


@settings(max_examples=20, deadline=None)
@given(
    summary=hostile_text,
    evidence=st.lists(hostile_text, max_size=20),
    steps=st.lists(hostile_text, max_size=20),
    probe=hostile_text,
)
def test_slack_payload_keeps_slacks_limits_and_shows_hostile_text_inert(
    summary: str, evidence: list[str], steps: list[str], probe: str
) -> None:
    payload = render_transition_slack(hostile_transition(summary, evidence, steps, probe), REF)
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
    for text in [*texts(payload), payload["text"]]:
        assert "<!" not in text and "<@" not in text
        assert not re.search(r"@(channel|here|everyone)\b", text, re.IGNORECASE)
        # Our own links are the only markup left: any other `<` or `>` is shown, not followed.
        assert "<" not in OUR_LINK.sub("", text) and ">" not in OUR_LINK.sub("", text)
    evidence = [b["text"]["text"] for b in blocks if b.get("text", {}).get("text", "").startswith("*Evidence")]
    assert all(e.endswith("```") and e.count("```") == 2 for e in evidence)  # the fence always closes


@settings(max_examples=20, deadline=None)
@given(summary=hostile_text, evidence=st.lists(hostile_text, max_size=10))
def test_email_subject_is_valid_and_body_lines_cannot_be_faked(summary: str, evidence: list[str]) -> None:
    message = render_transition_sns(hostile_transition(summary, evidence, [], "x"), REF)
    assert len(message.subject) < 100 and message.subject.isascii() and "\n" not in message.subject
    body_lines = message.body.splitlines()
    assert body_lines[3] == " ".join(summary.replace("\r", " ").split("\n")) or "\n" not in summary


@given(st.text(max_size=500), st.integers(min_value=2, max_value=400))
def test_cutting_escaped_text_never_splits_an_entity(text: str, limit: int) -> None:
    result = cut(escape_mrkdwn(text), limit)
    assert len(result) <= limit
    assert not re.search(r"&[a-z]{0,3}(…)?$", result) or result.endswith(("&amp;", "&lt;", "&gt;"))


def test_escaping_examples() -> None:
    assert escape_mrkdwn("a <b> & `c`") == "a &lt;b&gt; &amp; \u02cbc\u02cb"
    assert escape_mrkdwn("ping <!here> @channel") == "ping &lt;!here&gt; @\u200bchannel"
