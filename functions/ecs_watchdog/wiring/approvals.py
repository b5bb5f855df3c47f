"""Build the click desk (flow/approvals.py) from the Slack interactions function's environment.

It reads what the events function reads (wiring/settings.py: the state table, the mode, the containment
policy, the kill switch, the audit bus, the channels) plus who may press:
`WATCHDOG_SLACK_ALLOWED_USERS` (comma-separated Slack user ids) and `WATCHDOG_SLACK_ALLOWED_USERGROUP` (a
user group id, whose members `groups` reads). Its ECS adapter acts in approve and enforce mode: the
approval is the person's, the desk carries it out on containment's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import boto3

from ecs_watchdog.approvals.people import allowed_users
from ecs_watchdog.aws.audit import AuditEvents
from ecs_watchdog.aws.ecs import Services
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.flow.approvals import ClickDesk, UserGroupMembers
from ecs_watchdog.flow.pipeline import Pipeline, utc_now
from ecs_watchdog.wiring.events import build_containment, build_outbox
from ecs_watchdog.wiring.settings import Settings

ALLOWED_USERS = "WATCHDOG_SLACK_ALLOWED_USERS"
ALLOWED_USERGROUP = "WATCHDOG_SLACK_ALLOWED_USERGROUP"


def build_click_desk(
    env: Mapping[str, str],
    session: boto3.Session | None = None,
    groups: UserGroupMembers | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ClickDesk:
    """The desk over one boto3 session; `groups` answers for the allowed user group (None: no group lookup,
    only the listed users may press)."""
    settings = Settings.from_environment(env)
    session = session or boto3.Session()
    acts = Mode(settings.mode).rank >= Mode.APPROVE.rank
    pipeline = Pipeline(
        state=StateTable(session.client("dynamodb"), settings.state_table_name),
        services=Services(session.client("ecs")),
        outbox=build_outbox(settings, session, clock),
        policy=settings.policy(),
        home=settings.home,
        containment=build_containment(settings, session, clock, dry_run=not acts),
    )
    group = (env.get(ALLOWED_USERGROUP) or "").strip() or None
    return ClickDesk(
        pipeline=pipeline,
        allowed_users=allowed_users(env.get(ALLOWED_USERS)),
        allowed_group=group,
        groups=groups,
        audit=AuditEvents(session.client("events"), settings.audit_event_bus),
        clock=clock,
    )
