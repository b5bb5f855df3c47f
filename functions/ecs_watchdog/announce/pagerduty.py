"""PagerDuty events for incident transitions: one page per incident, opened, updated and resolved. Pure.

The event shape is PagerDuty's Events API v2 alert event (PagerDuty's developer docs, "Events API v2 >
Trigger Events", docs/events-API-v2/02-Trigger-Events.md): `event_action` trigger | acknowledge |
resolve, `dedup_key` (at most 255 characters), `payload` {summary (at most 1,024 characters), source,
severity critical | error | warning | info, timestamp, component, group, class, custom_details},
`links` [{href, text}]. A trigger whose
`dedup_key` names an open alert is added to that alert, not paged again: that is how containment updates
the page; a resolve closes it.

- OPENED, REOPENED: trigger (severity `error`; `critical` when many services fail at once);
- CONTAINED: trigger again with the same key (an update of the open alert, severity `warning`), or, when
  the incident was contained by the event that opened it, one trigger that says both (`send_together`);
- RESOLVED: resolve; CLOSED is archived, never announced.
The channel (announce/channels.py, PagerDutyChannel) sends them; the outbox gives it what it gives every
channel: each transition once, leftovers delivered later.
"""

from __future__ import annotations

from typing import Any

from ecs_watchdog.announce import content
from ecs_watchdog.announce.inert import inert
from ecs_watchdog.incidents.model import Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
_SEVERITY = {
    TransitionKind.OPENED: "error",
    TransitionKind.REOPENED: "error",
    TransitionKind.CONTAINED: "warning",
}


def dedup_key(transition: Transition, ref: ServiceRef) -> str:
    """The page's key: the incident, named with its service (or account), so every transition of one
    incident, and every redelivery, lands on the same alert."""
    incident = transition.incident
    scope = ref.account_key if incident.kind == "correlated" else ref.key
    return f"ecs-watchdog/{scope}/{incident.id}"[:MAX_DEDUP_KEY]


def pagerduty_event(
    transition: Transition, ref: ServiceRef, runbook_base_url: str | None = None, opened: Transition | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(event_action, the event's other properties) for a transition; None for one that pages nobody
    (CLOSED). With `opened`, one trigger for an incident opened and contained at once."""
    if transition.kind is TransitionKind.CLOSED:
        return None
    if opened is not None:
        transition = content.together(opened, transition)
    line = content.headline(transition, ref, opened)
    if transition.kind is TransitionKind.RESOLVED:
        return "resolve", {}
    incident = transition.incident
    severity = _SEVERITY[(opened or transition).kind]
    if incident.kind == "correlated" and severity == "error":
        severity = "critical"
    details: dict[str, Any] = {label: inert(value) for label, value in content.facts(transition)}
    action = content.action_of(transition)
    if action is not None:
        details["Action"] = [inert(line) for line in content.action_lines(action)]
    evidence = content.explanation_of(transition).evidence
    if evidence:
        details["Evidence"] = [inert(e) for e in evidence]
    payload = {
        "summary": _cut(inert(f"{line} — {transition.summary}"), MAX_SUMMARY),
        "source": ref.label if incident.kind != "correlated" else ref.account_key,
        "severity": severity,
        "timestamp": transition.at.isoformat(),
        "component": ref.name,
        "group": ref.cluster,
        "class": str(incident.category or incident.kind),
        "custom_details": details,
    }
    links = [
        {"href": url, "text": label}
        for label, url in content.message_links(transition, ref, runbook_base_url)
        if url.startswith("https://")
    ]
    return "trigger", {"payload": payload, "links": links}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
