"""Render incident transitions as a Slack message and as SNS/email text. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecs_watchdog.classify import links
from ecs_watchdog.incidents.model import Explanation, Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

_SNS_SUBJECT_LIMIT = 100  # SNS rejects subjects of 100 characters or more
_SLACK_TEXT_LIMIT = 2900  # a section block's text may hold 3,000 characters

_ICONS = {
    TransitionKind.OPENED: ":rotating_light:",
    TransitionKind.REOPENED: ":rotating_light:",
    TransitionKind.CONTAINED: ":shield:",
    TransitionKind.RESOLVED: ":white_check_mark:",
    TransitionKind.CLOSED: ":white_check_mark:",
}
_KIND_TITLES = {
    "failing_deployment": "Failing deployment",
    "crash_loop": "Crash loop",
    "deterministic": "Confirmed failure",
    "start_impaired": "Tasks cannot start",
    "stuck_deployment": "Stuck deployment",
    "overlapping_deployments": "Overlapping deployments",
    "correlated": "Many services failing at once",
}


@dataclass(frozen=True)
class SnsMessage:
    subject: str
    body: str


def runbook_url(runbook: str, base_url: str | None) -> str:
    """The runbook as a link people can open from Slack: base URL + repository path when configured."""
    return f"{base_url.rstrip('/')}/{runbook}" if base_url else runbook


def headline(transition: Transition, ref: ServiceRef) -> str:
    """One line: what happened to which service, e.g. `OPENED prod/api: Failing deployment (image)`."""
    incident = transition.incident
    title = _KIND_TITLES.get(str(incident.kind), str(incident.kind))
    where = f"{ref.region} account {ref.account}" if incident.kind == "correlated" else ref.label
    cause = f" ({incident.category})" if incident.category else ""
    return f"{str(transition.kind).upper()} {where}: {title}{cause}"


def _facts(transition: Transition) -> list[tuple[str, str]]:
    incident = transition.incident
    facts = [("Incident", incident.id), ("Failures", str(incident.failures))]
    if incident.categories:
        facts.append(("Categories", ", ".join(f"{c} x{n}" for c, n in sorted(incident.categories.items()))))
    if incident.task_definition:
        facts.append(("Revision", incident.task_definition.rsplit("/", 1)[-1]))
    if incident.deployment_id:
        facts.append(("Deployment", incident.deployment_id))
    facts.append(("Last known good", (incident.last_known_good or "unknown").rsplit("/", 1)[-1]))
    if not incident.containment_eligible:
        facts.append(("Containment", "not automatic (cause unknown or shared by many services)"))
    return facts


def render_transition_slack(
    transition: Transition, ref: ServiceRef, runbook_base_url: str | None = None
) -> dict[str, Any]:
    """A Slack incoming-webhook payload (Block Kit) with a plain-text fallback."""
    line = headline(transition, ref)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(line, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(transition.summary, _SLACK_TEXT_LIMIT)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in _facts(transition)]},
    ]
    explanation = transition.explanation or Explanation()
    if explanation.evidence:
        evidence = "\n".join(explanation.evidence)
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"*Evidence*\n```{evidence}```", _SLACK_TEXT_LIMIT)},
            }
        )
    if explanation.next_steps:
        steps = "\n".join(f"{n}. {s}" for n, s in enumerate(explanation.next_steps, start=1))
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"*Next steps*\n{steps}", _SLACK_TEXT_LIMIT)}}
        )
    context = [f"<{links.service_link(ref.region, ref.cluster, ref.name)}|Service in the console>"]
    if explanation.runbook:
        context.append(f"Runbook: {runbook_url(explanation.runbook, runbook_base_url)}")
    context.append(f"{ref.region} · account {ref.account} · ecs-watchdog")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in context]})
    return {"text": f"{_ICONS[transition.kind]} {line} — {_cut(transition.summary, 500)}", "blocks": blocks}


def render_transition_sns(transition: Transition, ref: ServiceRef, runbook_base_url: str | None = None) -> SnsMessage:
    """Subject and plain-text body for SNS (email subscribers read this)."""
    lines = [headline(transition, ref), "", transition.summary, ""]
    lines += [f"{k + ':':<17}{v}" for k, v in _facts(transition)]
    lines += [
        f"{'Service:':<17}{ref.label} ({ref.region}, account {ref.account})",
        f"{'Console:':<17}{links.service_link(ref.region, ref.cluster, ref.name)}",
    ]
    explanation = transition.explanation or Explanation()
    if explanation.evidence:
        lines += ["", "Evidence (verbatim):", *(f"  {e}" for e in explanation.evidence)]
    if explanation.next_steps:
        lines += ["", "Next steps:", *(f"  {n}. {s}" for n, s in enumerate(explanation.next_steps, start=1))]
    if explanation.runbook:
        lines += ["", f"Runbook: {runbook_url(explanation.runbook, runbook_base_url)}"]
    return SnsMessage(subject=sns_subject(f"[ecs-watchdog] {headline(transition, ref)}"), body="\n".join(lines))


def sns_subject(text: str) -> str:
    """SNS subjects must be printable ASCII on one line and under 100 characters."""
    ascii_text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text.replace("\n", " "))
    return ascii_text if len(ascii_text) < _SNS_SUBJECT_LIMIT else ascii_text[: _SNS_SUBJECT_LIMIT - 4] + "..."


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
