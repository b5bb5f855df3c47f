"""`ecs-watchdog diagnose`: the diagnose function's code path on a laptop, read-only, with the caller's
credentials. Exit status: 0 no probe found a cause, 1 a probe did, 2 usage or AWS errors (nothing could
be checked: no credentials, no region, an unknown service or task)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, TextIO

from ecs_watchdog.commands.member_role import add_member_arguments, member_session

EXIT_CLEAN, EXIT_FAILING, EXIT_UNUSABLE = 0, 1, 2
READ_ROLE = "ecs-watchdog-read"  # a member's look-ups role (infra/organization.py)


def add_diagnose_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    parser.add_argument("--cluster", help="cluster name or ARN (required unless --local)")
    parser.add_argument("--service", help="service name or ARN (found from --task when omitted)")
    parser.add_argument("--task", help="a task ARN or id of the service: its service is looked up (DescribeTasks)")
    parser.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument("--json", action="store_true", help="print the JSON report (docs/diagnose.md)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="no AWS account: diagnose a service planted in the offline sandbox (moto), to see the report",
    )
    parser.add_argument(
        "--read-secret-values",
        action="store_true",
        help="read Secrets Manager values to check they are JSON with the keys tasks use (never printed)",
    )
    add_member_arguments(parser, READ_ROLE)


def run_diagnose(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None, session: Any = None
) -> int:
    """Diagnose one service and print the report; the exit status says what it found. `session`: a
    boto3 session to use instead of the caller's (the offline sandbox of `--local`)."""
    out, err = out or sys.stdout, err or sys.stderr
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from ecs_watchdog.aws import diagnosis as probes_runner
    from ecs_watchdog.aws.diagnosis import diagnose_service
    from ecs_watchdog.aws.member_sessions import MemberUnreachable
    from ecs_watchdog.aws.probe_clients import ProbeClients
    from ecs_watchdog.aws.tasks import service_of_task
    from ecs_watchdog.commands.errors import NO_CREDENTIALS, one_line
    from ecs_watchdog.diagnose.report import report_json, report_text, verdict
    from ecs_watchdog.diagnose.request import TaskLookupError

    if not args.cluster:  # a usage error, as argparse says them (not required there: --local needs none)
        print("ecs-watchdog diagnose: error: the following arguments are required: --cluster (or --local)", file=err)
        raise SystemExit(EXIT_UNUSABLE)
    if not args.service and not args.task:
        print("ecs-watchdog diagnose: give --service, or --task to find it", file=err)
        return EXIT_UNUSABLE
    try:
        session = session or boto3.Session(profile_name=args.profile, region_name=args.region)
        credentials = session.get_credentials()
        if credentials is not None and session.region_name:
            session = member_session(session, args)  # --account: through the member's role
    except (BotoCoreError, ClientError, MemberUnreachable) as error:
        print(f"ecs-watchdog diagnose: {one_line(error)}", file=err)
        return EXIT_UNUSABLE
    if not session.region_name:
        print("ecs-watchdog diagnose: no region: give --region, or set AWS_REGION or the profile's region", file=err)
        return EXIT_UNUSABLE
    if credentials is None:  # else every probe would say so, one block each
        print(f"ecs-watchdog diagnose: {NO_CREDENTIALS}", file=err)
        return EXIT_UNUSABLE
    clients = ProbeClients(session)
    service = args.service
    if args.task:
        try:
            owner = service_of_task(clients.client("ecs"), args.cluster, args.task)
        except TaskLookupError as error:
            print(f"ecs-watchdog diagnose: {error}", file=err)
            return EXIT_UNUSABLE
        if service and service.rsplit("/", 1)[-1] != owner:
            print(f"ecs-watchdog diagnose: task {args.task} belongs to service {owner}, not {service}", file=err)
            return EXIT_UNUSABLE
        service = owner
    # A probe's error is in the report; its log line on stdout would break --json.
    level = probes_runner.logger.log_level
    probes_runner.logger.setLevel(logging.ERROR)
    try:
        diagnosis = diagnose_service(clients, args.cluster, service, read_secret_values=args.read_secret_values)
    finally:
        probes_runner.logger.setLevel(level)
    found = verdict(diagnosis)
    shared = _one_reason(diagnosis) if found == "unchecked" else None
    if args.json:
        out.write(json.dumps(report_json(diagnosis, task_arn=args.task), indent=2, ensure_ascii=False) + "\n")
    elif shared is None:
        out.write(report_text(diagnosis, task_arn=args.task) + "\n")
    if found == "unchecked":
        # One reason stopped every probe (an unknown service, no access): said once, not once per probe.
        print(f"ecs-watchdog diagnose: nothing could be checked: {shared or 'see the report'}", file=err)
        return EXIT_UNUSABLE
    return EXIT_FAILING if found == "fail" else EXIT_CLEAN


def _one_reason(diagnosis: Any) -> str | None:
    """The reason every probe gave, when they all gave the same one (the service could not be looked up)."""
    reasons = {run.result.summary.removeprefix("could not check: ") for run in diagnosis.runs}
    return reasons.pop() if len(reasons) == 1 else None
