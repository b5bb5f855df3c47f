"""Render a finding as a Slack message and as SNS/email text. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecs_watchdog.classify import links
from ecs_watchdog.models import Finding

_SNS_SUBJECT_LIMIT = 100  # SNS rejects longer subjects
_SLACK_TEXT_LIMIT = 2900  # a section block's text may hold 3,000 characters


@dataclass(frozen=True)
class SnsMessage:
    subject: str
    body: str


def runbook_url(runbook: str, base_url: str | None) -> str:
    """The runbook as a link people can open from Slack: base URL + repository path when configured."""
    return f"{base_url.rstrip('/')}/{runbook}" if base_url else runbook


def headline(finding: Finding) -> str:
    """One line naming the service and what broke, e.g. `prod/api: Image tag or repository not found`."""
    return f"{finding.service_label}: {finding.classification.title}"


def render_slack(finding: Finding, runbook_base_url: str | None = None) -> dict[str, Any]:
    """A Slack incoming-webhook payload (Block Kit) with a plain-text fallback."""
    c, stop = finding.classification, finding.stop
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(c.next_steps, start=1))
    evidence = "\n".join(c.evidence) or "(the event carried no reason)"
    fields = [
        f"*Category*\n`{c.category}`",
        f"*Rule*\n`{c.rule}`",
        f"*Task definition*\n{stop.task_definition or '-'}",
        f"*Task*\n<{links.task_link(stop.region, stop.cluster, stop.task_id)}|{stop.task_id}>",
    ]
    return {
        "text": f":rotating_light: {headline(finding)} — {c.summary}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": _cut(headline(finding), 150)}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _cut(c.summary, _SLACK_TEXT_LIMIT)}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"*Evidence*\n```{evidence}```", _SLACK_TEXT_LIMIT)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _cut(f"*Next steps*\n{steps}", _SLACK_TEXT_LIMIT)},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": f"Runbook: {runbook_url(c.runbook, runbook_base_url)}"},
                    {"type": "mrkdwn", "text": f"{stop.region} · account {stop.account} · ecs-watchdog"},
                ],
            },
        ],
    }


def render_sns(finding: Finding, runbook_base_url: str | None = None) -> SnsMessage:
    """Subject and plain-text body for SNS (email subscribers read this)."""
    c, stop = finding.classification, finding.stop
    subject = sns_subject(f"[ecs-watchdog] {headline(finding)}")
    lines = [
        headline(finding),
        "",
        c.summary,
        "",
        f"Category:        {c.category} (rule {c.rule})",
        f"Service:         {finding.service_label}",
        f"Task definition: {stop.task_definition or '-'}",
        f"Task:            {stop.task_arn}",
        f"Region/account:  {stop.region} / {stop.account}",
        "",
        "Evidence (verbatim):",
        *(f"  {line}" for line in c.evidence or ("(the event carried no reason)",)),
        "",
        "Next steps:",
        *(f"  {n}. {step}" for n, step in enumerate(c.next_steps, start=1)),
        "",
        f"Runbook: {runbook_url(c.runbook, runbook_base_url)}",
    ]
    return SnsMessage(subject=subject, body="\n".join(lines))


def sns_subject(text: str) -> str:
    """SNS subjects must be printable ASCII on one line and under 100 characters."""
    ascii_text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text.replace("\n", " "))
    return ascii_text if len(ascii_text) < _SNS_SUBJECT_LIMIT else ascii_text[: _SNS_SUBJECT_LIMIT - 4] + "..."


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
