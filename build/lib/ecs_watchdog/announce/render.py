"""Render incident transitions as a Slack message and as SNS/email text. Pure: no I/O, no clock.

The one import for callers: the content lives in `content`, the Slack layout in `slack_blocks`, the
email layout in `email`, when updates are due in `cadence`.
"""

from __future__ import annotations

from ecs_watchdog.announce.content import headline, runbook_url
from ecs_watchdog.announce.email import SnsMessage, render_transition_sns, sns_attributes, sns_subject
from ecs_watchdog.announce.slack_blocks import (
    escape_mrkdwn,
    render_living_message,
    render_thread_reply,
    render_transition_slack,
    render_update_slack,
)

__all__ = [
    "SnsMessage",
    "escape_mrkdwn",
    "headline",
    "render_living_message",
    "render_thread_reply",
    "render_transition_slack",
    "render_transition_sns",
    "render_update_slack",
    "runbook_url",
    "sns_attributes",
    "sns_subject",
]
