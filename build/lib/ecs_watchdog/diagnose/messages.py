"""A diagnosis as a message (pure): SNS/email text and a Slack Block Kit payload, within their limits."""

from __future__ import annotations

from typing import Any

from ecs_watchdog.announce.render import SnsMessage, sns_subject
from ecs_watchdog.diagnose.model import Diagnosis
from ecs_watchdog.diagnose.report import headline, ordered_runs, probe_lines, report_text, verdict

SLACK_MAX_BLOCKS = 50
SLACK_SECTION_LIMIT = 2900  # a section's text may hold 3,000 characters
_ICONS = {"fail": ":red_circle:", "error": ":warning:", "pass": ":white_check_mark:", "skipped": ":white_circle:"}


def diagnosis_sns_message(
    diagnosis: Diagnosis, *, task_arn: str | None = None, runbook_base_url: str | None = None
) -> SnsMessage:
    """The whole text report, under a subject SNS accepts (printable ASCII, under 100 characters)."""
    subject = sns_subject(f"[ecs-watchdog] diagnosis {verdict(diagnosis).upper()}: {headline(diagnosis)}")
    return SnsMessage(
        subject=subject, body=report_text(diagnosis, task_arn=task_arn, runbook_base_url=runbook_base_url)
    )


def diagnosis_slack_payload(
    diagnosis: Diagnosis, *, task_arn: str | None = None, runbook_base_url: str | None = None
) -> dict[str, Any]:
    """A header, one section per failing or erroring probe (its block of the text report), and one
    context line listing the probes that passed or were skipped."""
    title = f"Diagnosis {verdict(diagnosis).upper()}: {headline(diagnosis)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, 150)}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(_where(diagnosis, task_arn), 2000)}]},
    ]
    quiet: list[str] = []
    for run in ordered_runs(diagnosis):
        result = run.result
        if result.status in ("pass", "skipped"):
            quiet.append(f"{_ICONS[result.status]} {result.name}")
            continue
        lines = probe_lines(result, runbook_base_url)
        text = f"{_ICONS[result.status]} *{lines[0]}*\n" + "\n".join(lines[1:])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SLACK_SECTION_LIMIT)}})
    if quiet:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut("  ".join(quiet), 2000)}]})
    return {"text": _cut(title, SLACK_SECTION_LIMIT), "blocks": blocks[:SLACK_MAX_BLOCKS]}


def _where(diagnosis: Diagnosis, task_arn: str | None) -> str:
    parts = [f"task definition {diagnosis.task_definition_arn or 'unknown'}"]
    if task_arn:
        parts.append(f"task {task_arn}")
    parts.append(f"{len(diagnosis.api_calls)} read-only API calls in {diagnosis.elapsed_seconds:.2f} s")
    return " · ".join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
