"""`ecs-watchdog restore`: undo the watchdog's last action on a service, from a laptop.

Uses the same code as the events function's console payload `{"restore": {...}}`: the service is
described fresh, the action's record is read from the state table (when `--table` names it) or, for a
scale to zero, from the `ecs-watchdog:previous-desired-count` tag the watchdog put on the service.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.member_sessions import MemberUnreachable
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.commands.errors import one_line
from ecs_watchdog.commands.member_role import add_member_arguments, member_session
from ecs_watchdog.commands.restore_words import restore_text
from ecs_watchdog.contain.step import Containment, action_summary
from ecs_watchdog.flow.state_items import mark_undone
from ecs_watchdog.incidents.service_ref import ServiceRef

CONTAIN_ROLE = "ecs-watchdog-contain"  # a member's containment role (infra/organization.py)


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--table", help="the watchdog's state table (stack output StateTableName), for the record")
    parser.add_argument("--reapply-revision", action="store_true", help="undo a rollback: re-apply the revision")
    parser.add_argument("--dry-run", action="store_true", help="print the calls it would make; make none")
    parser.add_argument("--region")
    parser.add_argument("--profile")
    parser.add_argument("--json", action="store_true", help="print the undo's record as JSON (docs/cli.md)")
    add_member_arguments(parser, CONTAIN_ROLE)


def run_restore(args: argparse.Namespace) -> int:
    """Say what the undo did or would do (in words, or as JSON with --json). Exit 0 when it took effect
    (or would, in dry-run), 1 when there was nothing to undo or it failed, 2 on AWS errors."""
    try:
        session = boto3.Session(region_name=args.region, profile_name=args.profile)
        # --account: the service is a member's, changed through its role; the state table stays the hub's.
        acting = member_session(session, args)
        account = args.account or session.client("sts").get_caller_identity()["Account"]
        ref = ServiceRef(account=account, region=session.region_name or "", cluster=args.cluster, name=args.service)
        state = StateTable(session.client("dynamodb"), args.table).load_service(ref.key) if args.table else None
        containment = Containment(
            EcsActions(acting.client("ecs"), acting.client("application-autoscaling"), dry_run=args.dry_run)
        )
        now = datetime.now(UTC)
        record = containment.restore(ref, state, now, reapply_revision=args.reapply_revision, dry_run=args.dry_run)
    except (BotoCoreError, ClientError, LookupError, MemberUnreachable) as error:
        print(f"ecs-watchdog restore: {one_line(error)}", file=sys.stderr)
        return 2
    summary = action_summary(record)
    summary["dry_run"] = bool(args.dry_run)  # this run's, not only the action's: a dry-run stand-down too
    # The person's call from now on, as from the console: recorded where the watchdog can read it.
    if args.table:
        problem = mark_undone(StateTable(session.client("dynamodb"), args.table), ref, record, now)
    elif record.took_effect:
        problem = "no --table: the watchdog was not told this restore is yours, and may act on the incident again"
    else:
        problem = None
    if problem:
        summary["warning"] = problem
        print(f"ecs-watchdog restore: warning: {problem}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps(summary, indent=2))
    else:
        print(restore_text(record, f"{args.cluster}/{args.service}", dry_run=args.dry_run))
    return 0 if record.took_effect or (args.dry_run and record.action.calls) else 1
