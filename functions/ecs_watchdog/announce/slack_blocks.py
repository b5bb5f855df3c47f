"""Slack Block Kit for incident messages, within Slack's limits and with user text made harmless. Pure.

Limits (Slack's, see CHECKED-FACTS.md): 50 blocks per message, 3,000 characters per section text,
10 fields per section (2,000 characters each), 150 for a header, 10 elements per context block.
Anything that comes from outside (stop reasons, container names, summaries quoting them) is escaped
with `escape_mrkdwn` before it is cut, and cut so that no escape sequence is split.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ecs_watchdog.announce import content
from ecs_watchdog.announce.inert import inert
from ecs_watchdog.approvals.click import ButtonKind, ButtonValue
from ecs_watchdog.incidents.model import Incident, IncidentStatus, Transition
from ecs_watchdog.incidents.service_ref import ServiceRef

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_FALLBACK_TEXT = 3000  # the notification text: Slack accepts more, phones show far less
MAX_BUTTON_TEXT = 75  # a button's plain_text label
MAX_ACTION_ELEMENTS = 25  # elements of an actions block

_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_ZERO_WIDTH_SPACE = "\u200b"
_GRAVE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT: looks like a backtick, opens no code span


def escape_mrkdwn(text: str) -> str:
    """Text from outside made inert in Slack mrkdwn: `&`, `<`, `>` as entities (so `<!here>`, `<@U1>` and
    `<url|label>` are shown, not acted on), backticks that cannot open or close a code span, and
    `@channel` / `@here` / `@everyone` broken with a zero-width space so they notify nobody; control,
    bidi and zero-width characters shown, line breaks shown (announce/inert.py)."""
    escaped = inert(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", _GRAVE)
    return _MENTION.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), escaped)


def plain(text: str) -> str:
    """Text for a plain_text object: Slack shows it literally, but mentions are still broken (and the text
    made inert, as everywhere)."""
    return _MENTION.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), inert(text))


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut, never ending inside an `&...;` entity."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's 3,000 characters (the caller escaped what needed escaping)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_TEXT)}}


def _titled(label: str, body: str) -> dict[str, Any]:
    """`*Label*` then a body that may be cut: the label always survives."""
    head = f"*{label}*\n"
    return section(head + cut(body, MAX_SECTION_TEXT - len(head)))


def _code(label: str, lines: list[str]) -> dict[str, Any]:
    """Verbatim lines in a code block, cut inside the fence so the fence always closes."""
    head, fence = f"*{label}*\n```", "```"
    body = cut("\n".join(escape_mrkdwn(line) for line in lines), MAX_SECTION_TEXT - len(head) - len(fence))
    return section(head + body + fence)


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": cut(f"*{label}*\n{escape_mrkdwn(value)}", MAX_FIELD_TEXT)}
            for label, value in pairs[:MAX_FIELDS]
        ],
    }


def _context(texts: list[str]) -> dict[str, Any]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cut(t, MAX_FIELD_TEXT)} for t in texts[:MAX_CONTEXT_ELEMENTS]],
    }


def _link(label: str, url: str) -> str:
    # A runbook path without a configured base URL is not a link Slack can open: show it as text.
    return f"<{url}|{label}>" if url.startswith("https://") else f"{label}: {escape_mrkdwn(url)}"


def _header(ref: ServiceRef, incident: Incident) -> dict[str, Any]:
    text = f"{ref.region} · {ref.account}" if incident.kind == "correlated" else content.where(ref)
    return {"type": "header", "text": {"type": "plain_text", "text": cut(plain(text), MAX_HEADER_TEXT), "emoji": True}}


def transition_blocks(
    transition: Transition,
    ref: ServiceRef,
    runbook_base_url: str | None,
    opened: Transition | None = None,
    *,
    buttons: bool = False,
) -> list[dict[str, Any]]:
    """The incident as Block Kit: header, status and summary, counts, evidence, action, probes, steps, links,
    who answered from Slack; with `buttons` (bot mode: a webhook's message cannot take a click back to
    the watchdog usefully), the incident's buttons last."""
    incident = transition.incident
    explanation = content.explanation_of(transition)
    word = content.status_word(transition, opened)
    status = f"{content.ICONS[transition.kind]} *{word}* · *{content.title(incident)}*"
    blocks = [_header(ref, incident), section(f"{status}\n{escape_mrkdwn(transition.summary)}")]
    blocks.append(_fields(content.facts(transition)))
    if explanation.evidence:
        blocks.append(_code("Evidence (verbatim)", explanation.evidence))
    action = content.action_of(transition)
    if action is not None:
        blocks.append(_code(content.action_heading(action), content.action_lines(action)))
    probes = content.probes_of(transition)
    if probes:
        blocks.append(_titled("Probes", "\n".join(f"• {escape_mrkdwn(content.probe_line(p))}" for p in probes)))
    if explanation.next_steps:
        steps = "\n".join(f"{n}. {escape_mrkdwn(s)}" for n, s in enumerate(explanation.next_steps, start=1))
        blocks.append(_titled("Next steps", steps))
    blocks.append(
        _context([_link(label, url) for label, url in content.message_links(transition, ref, runbook_base_url)])
    )
    people = _people_lines(incident)
    if people:
        blocks.append(_context(people))
    footer = _context([f"ecs-watchdog · {escape_mrkdwn(incident.id)} · {content.since(transition.at)}"])
    actions = button_block(transition) if buttons else None
    tail = [footer, actions] if actions else [footer]
    return [*blocks[: MAX_BLOCKS - len(tail)], *tail]


def _people_lines(incident: Incident) -> list[str]:
    """Who answered from Slack: acknowledged by, silenced by and until when."""
    lines = []
    if incident.acknowledged:
        who = incident.acknowledged
        lines.append(f":eyes: Acknowledged by {_mention(who)} at {str(who.get('at', ''))[11:16]} UTC")
    undone = (incident.acted or {}).get("undone_at")
    if undone:
        lines.append(f":leftwards_arrow_with_hook: Undone at {str(undone)[11:16]} UTC: the watchdog does not act again")
    if incident.silenced_until and incident.silenced_by:
        lines.append(
            f":no_bell: Silenced by {_mention(incident.silenced_by)} until {content.since(incident.silenced_until)}"
        )
    return lines


def _mention(person: dict[str, Any]) -> str:
    """`<@U123>` for a well-formed Slack user id (Slack shows the name), else the name made inert."""
    user_id = str(person.get("user_id", ""))
    if re.fullmatch(r"[UW][A-Z0-9]{2,20}", user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(str(person.get("user_name") or user_id))


def button_block(transition: Transition) -> dict[str, Any] | None:
    """The living message's buttons (bot mode): approve the open proposal (approve mode), undo an action that
    took effect, and always acknowledge and silence while the incident is ongoing. None when it is over."""
    incident = transition.incident
    if incident.status not in (IncidentStatus.OPEN, IncidentStatus.CONTAINED):
        return None
    value = ButtonValue(s=incident.service, i=incident.id)
    elements = []
    action = content.action_of(transition)
    proposal = incident.proposal or {}
    if (
        incident.status is IncidentStatus.OPEN
        and action is not None
        and action.outcome == "proposed"
        and proposal.get("id")
        and not proposal.get("taken_by")
    ):
        label = content.proposed_words(action)
        elements.append(
            _button(
                ButtonKind.APPROVE,
                label[:1].upper() + label[1:],
                value.model_copy(update={"proposal": proposal["id"]}),
                "primary",
            )
        )
    acted = incident.acted or {}
    if acted.get("outcome") in ("done", "fallback_done") and not acted.get("undone_at"):
        elements.append(_button(ButtonKind.UNDO, "Undo", value))
    if not incident.acknowledged:
        elements.append(_button(ButtonKind.ACKNOWLEDGE, "Acknowledge", value))
    elements.append(_button(ButtonKind.SILENCE_1H, "Silence 1 h", value))
    elements.append(_button(ButtonKind.SILENCE_24H, "Silence 24 h", value))
    return {"type": "actions", "block_id": "watchdog_buttons", "elements": elements[:MAX_ACTION_ELEMENTS]}


def _button(kind: ButtonKind, label: str, value: ButtonValue, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": kind.action_id,
        "text": {"type": "plain_text", "text": cut(plain(label), MAX_BUTTON_TEXT), "emoji": True},
        "value": value.encode(),
    }
    if style:
        button["style"] = style
    return button


def render_transition_slack(
    transition: Transition,
    ref: ServiceRef,
    runbook_base_url: str | None = None,
    opened: Transition | None = None,
    *,
    buttons: bool = False,
) -> dict[str, Any]:
    """A Slack payload (Block Kit) with a plain-text fallback; the same for a webhook and `chat.postMessage`.
    With `opened`, one message for an incident opened and contained at once (`transition` the containment)."""
    if opened is not None:
        transition = content.together(opened, transition)
    line = content.headline(transition, ref, opened)
    fallback = f"{content.ICONS[transition.kind]} {line} — {transition.summary}"
    return {
        "text": cut(escape_mrkdwn(fallback), MAX_FALLBACK_TEXT),
        "blocks": transition_blocks(transition, ref, runbook_base_url, opened, buttons=buttons),
    }


def render_living_message(
    opening: Transition, latest: Transition, ref: ServiceRef, runbook_base_url: str | None = None
) -> dict[str, Any]:
    """The incident's one message as it reads after `latest`: its status, with the opening's evidence kept,
    and its buttons (the living message is the bot's)."""
    return render_transition_slack(content.living(opening, latest), ref, runbook_base_url, buttons=True)


def render_thread_reply(transition: Transition, ref: ServiceRef) -> dict[str, Any]:
    """The short reply posted in the incident's thread when the living message is edited for a transition."""
    line = f"{content.ICONS[transition.kind]} *{str(transition.kind).upper()}*: {escape_mrkdwn(transition.summary)}"
    action = content.action_of(transition)
    if action is not None:
        line += "\n" + escape_mrkdwn(content.action_lines(action)[0])
    return {"text": cut(line, MAX_SECTION_TEXT), "blocks": [section(line)]}


def render_update_slack(incident: Incident, ref: ServiceRef, now: datetime) -> dict[str, Any]:
    """A count update: the incident is still going, with how many failures since when.

    Posted as a thread reply in bot mode, as a new short message by a webhook (which cannot edit)."""
    text = f":hourglass: {escape_mrkdwn(update_line(incident, ref, now))}"
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": [section(text)]}


def update_line(incident: Incident, ref: ServiceRef, now: datetime) -> str:
    """`Still failing prod/api (Crash loop (oom)): 42 failed tasks since 2025-07-21 08:03 UTC (2 h 10 min), api:6`."""
    elapsed = int((now - incident.opened_at).total_seconds() // 60)
    hours, minutes = divmod(max(elapsed, 0), 60)
    duration = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    status = "Contained, still watching" if incident.status == "contained" else "Still failing"
    return (
        f"{status} {ref.label} ({content.title(incident)}): {incident.failures} failed tasks since "
        f"{content.since(incident.opened_at)} ({duration}), {content.revision(incident.task_definition)}"
    )
