"""`ecs-watchdog diagnose`: the diagnose function's code path on a laptop, read-only, with the caller's
credentials. Exit status: 0 no probe found a cause, 1 a probe did, 2 usage or AWS errors (nothing could
be checked: no credentials, no region, an unknown service or task)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import TextIO

EXIT_CLEAN, EXIT_FAILING, EXIT_UNUSABLE = 0, 1, 2


def add_diagnose_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    parser.add_argument("--cluster", required=True, help="cluster name or ARN")
    parser.add_argument("--service", help="service name or ARN (found from --task when omitted)")
    parser.add_argument("--task", help="a task ARN or id of the service: its service is looked up (DescribeTasks)")
    parser.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument("--json", action="store_true", help="print the JSON report (docs/diagnose.md)")
    parser.add_argument(
        "--read-secret-values",
        action="store_true",
        help="read Secrets Manager values to check they are JSON with the keys tasks use (never printed)",
    )


def run_diagnose(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Diagnose one service and print the report; the exit status says what it found."""
    out, err = out or sys.stdout, err or sys.stderr
    import boto3
    from botocore.exceptions import BotoCoreError

    from ecs_watchdog.aws import diagnosis as probes_runner
    from ecs_watchdog.aws.diagnosis import diagnose_service
    from ecs_watchdog.aws.probe_clients import ProbeClients
    from ecs_watchdog.aws.tasks import service_of_task
    from ecs_watchdog.diagnose.report import report_json, report_text, verdict
    from ecs_watchdog.diagnose.request import TaskLookupError

    if not args.service and not args.task:
        print("ecs-watchdog diagnose: give --service, or --task to find it", file=err)
        return EXIT_UNUSABLE
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as error:
        print(f"ecs-watchdog diagnose: {error}", file=err)
        return EXIT_UNUSABLE
    if not session.region_name:
        print("ecs-watchdog diagnose: no region: give --region, or set AWS_REGION or the profile's region", file=err)
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
    if args.json:
        out.write(json.dumps(report_json(diagnosis, task_arn=args.task), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(report_text(diagnosis, task_arn=args.task) + "\n")
    found = verdict(diagnosis)
    if found == "unchecked":
        print("ecs-watchdog diagnose: nothing could be checked (see the report)", file=err)
        return EXIT_UNUSABLE
    return EXIT_FAILING if found == "fail" else EXIT_CLEAN
