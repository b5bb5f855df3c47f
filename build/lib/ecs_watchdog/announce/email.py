"""SNS/email text of an incident transition: a subject SNS accepts and a body a mail client reads well. Pure.

Email gets transitions (opened, contained, resolved, reopened, closed), never count updates: those
belong to Slack's thread, where they cost nobody an inbox line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_watchdog.announce import content
from ecs_watchdog.announce.inert import inert
from ecs_watchdog.incidents.model import Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

SNS_SUBJECT_LIMIT = 100  # SNS rejects subjects of 100 characters or more
_LABEL_WIDTH = 17
_SEVERITY = {
    TransitionKind.OPENED: "high",
    TransitionKind.REOPENED: "high",
    TransitionKind.CONTAINED: "medium",
    TransitionKind.RESOLVED: "info",
    TransitionKind.CLOSED: "info",
}


@dataclass(frozen=True)
class SnsMessage:
    subject: str
    body: str


def sns_subject(text: str) -> str:
    """SNS subjects must be printable ASCII on one line and under 100 characters."""
    ascii_text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text.replace("\n", " "))
    return ascii_text if len(ascii_text) < SNS_SUBJECT_LIMIT else ascii_text[: SNS_SUBJECT_LIMIT - 4] + "..."


def severity(transition: Transition) -> str:
    """critical (many services at once), high (opened), medium (contained) or info (resolved, closed)."""
    if transition.incident.kind == "correlated" and transition.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
        return "critical"
    return _SEVERITY[transition.kind]


def sns_attributes(transition: Transition, ref: ServiceRef) -> dict[str, str]:
    """Message attributes for subscription filters (SNS refuses empty string values, hence `none`)."""
    return {
        "severity": severity(transition),
        "category": _one_line(transition.incident.category or "none"),
        "cluster": _one_line(ref.cluster),
        "service": _one_line(ref.label),
        "transition": str(transition.kind),
        "kind": str(transition.incident.kind),
    }


def render_transition_sns(transition: Transition, ref: ServiceRef, runbook_base_url: str | None = None) -> SnsMessage:
    """Subject and plain-text body for SNS (email subscribers read this): short lines, labels aligned."""
    line = content.headline(transition, ref)
    explanation = content.explanation_of(transition)
    lines = [_one_line(line), _one_line(content.where(ref)), "", _one_line(transition.summary), ""]
    lines += [f"{label + ':':<{_LABEL_WIDTH}}{_one_line(value)}" for label, value in content.facts(transition)]
    if explanation.evidence:
        lines += ["", "Evidence (verbatim):", *(f"  {_one_line(e)}" for e in explanation.evidence)]
    action = content.action_of(transition)
    if action is not None:
        if action.dry_run:
            heading = "Containment (dry-run, nothing was changed):"
        elif action.changed_service:
            heading = "Containment:"
        else:
            heading = f"Containment: {content.action_heading(action)}:"
        lines += ["", heading, *(f"  {_one_line(a)}" for a in content.action_lines(action))]
    probes = content.probes_of(transition)
    if probes:
        lines += ["", "Probes:", *(f"  - {_one_line(content.probe_line(p))}" for p in probes)]
    if explanation.next_steps:
        lines += ["", "Next steps:"]
        lines += [f"  {n}. {_one_line(s)}" for n, s in enumerate(explanation.next_steps, start=1)]
    lines += ["", "Links:"]
    lines += [f"  {label}: {_one_line(url)}" for label, url in content.message_links(transition, ref, runbook_base_url)]
    lines += ["", "--", f"ecs-watchdog · incident {_one_line(transition.incident.id)} · {content.since(transition.at)}"]
    return SnsMessage(subject=sns_subject(f"[ecs-watchdog] {line}"), body="\n".join(lines) + "\n")


def _one_line(text: str) -> str:
    # A stop reason with a newline would break the aligned layout and could fake a line of our own; its
    # control and invisible characters could rewrite what a terminal or mail client shows.
    return inert(text)
