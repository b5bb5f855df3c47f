"""The IAM actions a diagnosis calls, as data: the one list the CDK role and the published minimal policy
(docs/diagnose.md) are both made from, and against which the probes' recorded calls are checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReadStatement:
    """Read-only actions on resource patterns with `{partition}`, `{region}` and `{account}` to fill in."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    why: str

    def resolved(self, partition: str, region: str, account: str) -> tuple[str, ...]:
        """The resource patterns with the placeholders filled in (values may be CDK tokens)."""
        return tuple(r.format(partition=partition, region=region, account=account) for r in self.resources)


DIAGNOSIS_READ_STATEMENTS: tuple[ReadStatement, ...] = (
    ReadStatement(
        "DescribeServices",
        ("ecs:DescribeServices",),
        ("arn:{partition}:ecs:{region}:{account}:service/*",),
        "the service and its deployments",
    ),
    ReadStatement(
        "DescribeTasks",
        ("ecs:DescribeTasks",),
        ("arn:{partition}:ecs:{region}:{account}:task/*",),
        "the service a task belongs to (a diagnosis asked by task ARN)",
    ),
    ReadStatement(
        "DescribeImages",
        ("ecr:DescribeImages",),
        # A task may pull from another account's or region's registry.
        ("arn:{partition}:ecr:*:*:repository/*",),
        "image probe: the tag or digest exists",
    ),
    ReadStatement(
        "DescribeSecrets",
        ("secretsmanager:DescribeSecret",),
        ("arn:{partition}:secretsmanager:*:*:secret:*",),
        "secrets probes: metadata only (exists, deletion date, KMS key), never the value",
    ),
    ReadStatement(
        "SimulateExecutionRoles",
        ("iam:SimulatePrincipalPolicy",),
        ("arn:{partition}:iam::{account}:role/*",),
        "secret access probe: may the task's execution role read its secrets",
    ),
    ReadStatement(
        "DescribeWithoutResourceLevelPermissions",
        (
            "ecs:DescribeTaskDefinition",
            "logs:DescribeLogGroups",
            "ssm:DescribeParameters",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "ec2:DescribeSubnets",
            "ec2:DescribeRouteTables",
            "ec2:DescribeVpcEndpoints",
        ),
        # None of these actions supports resource-level permissions (IAM service reference).
        ("*",),
        "task definition, log groups, parameters (metadata), target groups and health, subnets, routes, VPC endpoints",
    ),
)

SECRET_VALUES_STATEMENT = ReadStatement(
    "ReadSecretValuesForJsonCheck",
    ("secretsmanager:GetSecretValue",),
    # Its own account and region only: a secret value is the most sensitive thing the watchdog can read.
    ("arn:{partition}:secretsmanager:{region}:{account}:secret:*",),
    "only with watchdog:probe_read_secret_values / --read-secret-values: is the value valid JSON with the keys "
    "the task definition names (the value is never returned or logged)",
)


# The probes the events function runs to confirm a deterministic cause (diagnose/plan.py: image, secrets,
# logging, task definition, each with the network probe): no load balancer, no task look-up, no secret value.
# DescribeServices and DescribeTaskDefinition the events function is granted on statements of their own.
_NOT_CONFIRMING = frozenset(
    {
        "ecs:DescribeServices",
        "ecs:DescribeTaskDefinition",
        "ecs:DescribeTasks",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
    }
)


def confirming_probe_statements() -> tuple[ReadStatement, ...]:
    """The diagnosis statements the events function's confirming probes need."""
    kept = []
    for statement in DIAGNOSIS_READ_STATEMENTS:
        actions = tuple(a for a in statement.actions if a not in _NOT_CONFIRMING)
        if actions:
            kept.append(ReadStatement(f"Probe{statement.sid}", actions, statement.resources, statement.why))
    return tuple(kept)


def diagnosis_statements(*, read_secret_values: bool = False) -> tuple[ReadStatement, ...]:
    """Every statement a diagnosis needs; GetSecretValue only when secret values may be read."""
    return DIAGNOSIS_READ_STATEMENTS + ((SECRET_VALUES_STATEMENT,) if read_secret_values else ())


def diagnosis_actions(*, read_secret_values: bool = False) -> frozenset[str]:
    """Every IAM action a diagnosis may call."""
    return frozenset(a for s in diagnosis_statements(read_secret_values=read_secret_values) for a in s.actions)


def minimal_policy(
    *, partition: str = "aws", region: str = "<region>", account: str = "<account-id>", read_secret_values: bool = False
) -> dict[str, Any]:
    """The IAM policy document the `ecs-watchdog diagnose` CLI needs (published in docs/diagnose.md)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": statement.sid,
                "Effect": "Allow",
                "Action": list(statement.actions),
                "Resource": list(statement.resolved(partition, region, account)),
            }
            for statement in diagnosis_statements(read_secret_values=read_secret_values)
        ],
    }


# botocore endpoint prefixes (what ProbeClients records) whose IAM service prefix differs.
_IAM_PREFIX = {"api.ecr": "ecr"}


def iam_action(call: str) -> str:
    """The IAM action of a recorded call: `api.ecr.DescribeImages` → `ecr:DescribeImages`."""
    prefix, _, operation = call.rpartition(".")
    return f"{_IAM_PREFIX.get(prefix, prefix)}:{operation}"
