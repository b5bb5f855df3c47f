"""`--account` for the commands that look into or act on one service (diagnose, restore): from a laptop with
hub credentials, run through a member account's role, assumed as the hub assumes it (docs/organization.md).

The member's trust policy admits only the hub account's roles named `EcsWatchdog*`, with the hub's ExternalId:
the caller must be such a role (docs/organization.md, "From a laptop").
"""

from __future__ import annotations

import argparse
from typing import Any

from ecs_watchdog.aws.member_sessions import MemberSessions, hub_external_id


def add_member_arguments(parser: argparse.ArgumentParser, default_role: str) -> None:
    """--account, --role-name and --external-id."""
    parser.add_argument(
        "--account",
        help="a member account id (organization mode): run through its role, assumed with your hub credentials",
    )
    parser.add_argument("--role-name", default=default_role, help=f"the member role to assume (default {default_role})")
    parser.add_argument(
        "--external-id", help="the ExternalId to pass (default: ecs-watchdog-hub-<your account>, as the hub passes)"
    )


def member_session(session: Any, args: argparse.Namespace) -> Any:
    """`session` itself without --account; with it, a session in that account as --role-name. Raises
    MemberUnreachable (the role cannot be assumed) or botocore's errors (no credentials)."""
    if not getattr(args, "account", None):
        return session
    sts = session.client("sts")
    external_id = args.external_id or hub_external_id(sts.get_caller_identity()["Account"])
    return MemberSessions(sts, session.region_name or "", external_id).session(args.account, args.role_name)
