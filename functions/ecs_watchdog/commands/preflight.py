"""`ecs-watchdog preflight`: check a revision before ECS starts a task of it (docs/preflight.md).

Reads a task definition JSON file (what `aws ecs register-task-definition --cli-input-json` takes, or what
`describe-task-definition` prints) or a registered revision of a service, runs the preflight checks and
prints them. Exit status: 0 no deterministic fail, 1 a check failed (no task of this revision would
start), 2 usage or AWS errors that left nothing to check. Read-only, with the caller's credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ecs_watchdog.diagnose.preflight import Preflight

EXIT_CLEAN, EXIT_FAILING, EXIT_UNUSABLE = 0, 1, 2
_PROG = "ecs-watchdog preflight"


class PreflightInputError(Exception):
    """What to check could not be read or looked up; the message is the one line printed."""


def add_preflight_arguments(parser: argparse.ArgumentParser) -> None:
    """The subcommand's options."""
    parser.add_argument(
        "file", nargs="?", help="task definition JSON file, or - for standard input (default: the service's revision)"
    )
    parser.add_argument("--cluster", help="cluster name or ARN of the service (its target groups and subnets)")
    parser.add_argument("--service", help="service name or ARN: checks its load balancer and network too")
    parser.add_argument(
        "--task-definition",
        dest="revision",
        help="a registered revision (family:revision or ARN) to check; default the service's newest deployment's",
    )
    parser.add_argument("--offline", action="store_true", help="no AWS call: only what the file alone decides")
    parser.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument("--json", action="store_true", help="print the checks as JSON (docs/preflight.md)")
    parser.add_argument(
        "--read-secret-values",
        action="store_true",
        help="read Secrets Manager values to check they are JSON with the keys the tasks use (never printed)",
    )


def read_task_definition(text: str, source: str) -> dict[str, Any]:
    """The task definition in a JSON document (its `taskDefinition` when it is a describe response)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PreflightInputError(f"{source} is not JSON: {error.msg} at line {error.lineno}") from None
    if isinstance(document, Mapping) and isinstance(document.get("taskDefinition"), Mapping):
        document = document["taskDefinition"]
    if not isinstance(document, Mapping) or not isinstance(document.get("containerDefinitions"), list):
        raise PreflightInputError(f"{source} is not a task definition: it has no containerDefinitions list")
    return dict(document)


def run_preflight(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Preflight one revision and print the checks; the exit status says whether one failed."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        found = _preflight(args)
    except PreflightInputError as error:
        print(f"{_PROG}: {error}", file=err)
        return EXIT_UNUSABLE
    if args.json:
        out.write(json.dumps(preflight_json(found), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(preflight_text(found) + "\n")
    return EXIT_FAILING if found.verdict == "fail" else EXIT_CLEAN


def _preflight(args: argparse.Namespace) -> Preflight:
    from ecs_watchdog.aws.preflight import preflight_revision

    if bool(args.cluster) != bool(args.service):
        raise PreflightInputError("give --cluster and --service together")
    if not args.file and not args.service:
        raise PreflightInputError("give a task definition file, or --cluster and --service")
    if args.file and args.revision:
        raise PreflightInputError("give a task definition file or --task-definition, not both")
    if args.offline and (args.service or not args.file):
        raise PreflightInputError("--offline checks a file alone: give the file, without --cluster/--service")
    definition = _read_file(args.file) if args.file else None
    if args.offline:
        assert definition is not None
        return preflight_revision(None, definition)
    clients = _clients(args)
    service = _describe_service(clients, args.cluster, args.service) if args.service else None
    if definition is None:
        definition = _describe_revision(clients, args.revision or _newest_revision(service or {}))
    return preflight_revision(clients, definition, service, read_secret_values=args.read_secret_values)


def _read_file(path: str) -> dict[str, Any]:
    if path == "-":
        return read_task_definition(sys.stdin.read(), "standard input")
    try:
        with open(path, encoding="utf-8") as handle:
            return read_task_definition(handle.read(), path)
    except OSError as error:
        raise PreflightInputError(f"cannot read {path}: {error.strerror}") from None


def _clients(args: argparse.Namespace) -> Any:
    import boto3
    from botocore.exceptions import BotoCoreError

    from ecs_watchdog.aws.probe_clients import ProbeClients

    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    except BotoCoreError as error:
        raise PreflightInputError(str(error)) from None
    if not session.region_name:
        raise PreflightInputError("no region: give --region, set AWS_REGION or the profile's region, or use --offline")
    return ProbeClients(session)


def _failure(error: Exception) -> str:
    from ecs_watchdog.aws.diagnosis import describe_failure

    return describe_failure(error)


def _describe_service(clients: Any, cluster: str, service: str) -> dict[str, Any]:
    try:
        found = clients.client("ecs").describe_services(cluster=cluster, services=[service]).get("services", [])
    except Exception as error:
        raise PreflightInputError(f"cannot describe service {service}: {_failure(error)}") from None
    if not found:
        raise PreflightInputError(f"ECS does not know service {service} in cluster {cluster}")
    return dict(found[0])


def _newest_revision(service: Mapping[str, Any]) -> str:
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return str(deployment["taskDefinition"])
    if service.get("taskDefinition"):
        return str(service["taskDefinition"])
    raise PreflightInputError("the service names no task definition: give --task-definition")


def _describe_revision(clients: Any, revision: str) -> dict[str, Any]:
    try:
        return dict(clients.client("ecs").describe_task_definition(taskDefinition=revision)["taskDefinition"])
    except Exception as error:
        raise PreflightInputError(f"cannot describe task definition {revision}: {_failure(error)}") from None


_LABEL = {"pass": "pass", "fail": "FAIL", "cannot_check": "cannot check"}


def preflight_text(found: Preflight) -> str:
    """The checks for people: one line each, the evidence indented under fails and cannot-checks."""
    failures = len(found.failures)
    unchecked = sum(1 for c in found.checks if c.status == "cannot_check")
    lines = [
        f"preflight of {found.task_definition}: {found.verdict.upper()} "
        f"({failures} failed, {unchecked} could not be checked, {len(found.checks)} checks)"
    ]
    for check in found.checks:
        lines.append(f"  {_LABEL[check.status]:<13} {check.name}: {check.summary}")
        if check.status != "pass":
            lines += [f"{'':16}- {line}" for line in check.evidence if line not in check.summary]
    return "\n".join(lines)


def preflight_json(found: Preflight) -> dict[str, Any]:
    """The checks for machines (the contract is in docs/preflight.md)."""
    return {
        "task_definition": found.task_definition,
        "verdict": found.verdict,
        "failed": [c.name for c in found.failures],
        "checks": [c.model_dump(mode="json") for c in found.checks],
    }
