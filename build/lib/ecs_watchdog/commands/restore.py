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
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.step import Containment, action_summary
from ecs_watchdog.flow.state_items import mark_undone
from ecs_watchdog.incidents.service_ref import ServiceRef


def add_restore_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--service", required=True)
    parser.add_argument("--table", help="the watchdog's state table (stack output StateTableName), for the record")
    parser.add_argument("--reapply-revision", action="store_true", help="undo a rollback: re-apply the revision")
    parser.add_argument("--dry-run", action="store_true", help="print the calls it would make; make none")
    parser.add_argument("--region")
    parser.add_argument("--profile")


def run_restore(args: argparse.Namespace) -> int:
    """Print the undo's summary as JSON. Exit 0 when it took effect (or would, in dry-run), 1 when there
    was nothing to undo or it failed, 2 on AWS errors."""
    try:
        session = boto3.Session(region_name=args.region, profile_name=args.profile)
        account = session.client("sts").get_caller_identity()["Account"]
        ref = ServiceRef(account=account, region=session.region_name or "", cluster=args.cluster, name=args.service)
        state = StateTable(session.client("dynamodb"), args.table).load_service(ref.key) if args.table else None
        containment = Containment(
            EcsActions(session.client("ecs"), session.client("application-autoscaling"), dry_run=args.dry_run)
        )
        now = datetime.now(UTC)
        record = containment.restore(ref, state, now, reapply_revision=args.reapply_revision, dry_run=args.dry_run)
    except (BotoCoreError, ClientError, LookupError) as error:
        print(f"ecs-watchdog restore: {error}", file=sys.stderr)
        return 2
    summary = action_summary(record)
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
    print(json.dumps(summary, indent=2))
    return 0 if record.took_effect or (args.dry_run and record.action.calls) else 1
