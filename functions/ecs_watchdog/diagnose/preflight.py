"""Preflight of a revision: what will stop its tasks before they run, judged before ECS starts one. Pure.

Each check says `pass`, `fail` (deterministic: every task of the revision will fail for it) or
`cannot_check` (the watchdog could not look, or nothing here can: an image in another registry, a
network check without a service). The offline checks need the task definition alone (seed 001's
`${AWS_ACCOUNT_ID}`, a missing execution role, a Fargate size that does not exist); the others turn the
read-only probes' answers (aws/preflight.py) into verdicts. Only a `fail` may hold a deployment back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ecs_watchdog.diagnose.model import ProbeResult
from ecs_watchdog.diagnose.references import (
    AwslogsConfiguration,
    containers,
    is_fargate,
    parse_ecr_image,
    unwrap,
)
from ecs_watchdog.diagnose.service import container_ports
from ecs_watchdog.diagnose.task_definition import (
    execution_role_problems,
    fargate_size_problem,
    placeholder_problems,
)

CheckStatus = Literal["pass", "fail", "cannot_check"]


class CheckName(StrEnum):
    """The preflight checks; the names are stable (the CLI's JSON and the gate's reasons use them)."""

    PLACEHOLDERS = "placeholders"
    EXECUTION_ROLE = "execution_role"
    FARGATE_SIZE = "fargate_size"
    IMAGE = "image"
    SECRETS = "secrets"
    SECRET_ACCESS = "secret_access"
    LOG_GROUP = "log_group"
    HEALTH_CHECK_PORT = "health_check_port"
    SUBNETS = "subnets"


# What the task definition alone decides (offline_checks, in this order).
OFFLINE_CHECKS = (CheckName.PLACEHOLDERS, CheckName.EXECUTION_ROLE, CheckName.FARGATE_SIZE)


# The stop category each check's fail stands for: what the tasks would have stopped with (classify/).
CATEGORY_OF_CHECK: dict[str, str] = {
    CheckName.PLACEHOLDERS: "task_definition",
    CheckName.EXECUTION_ROLE: "task_definition",
    CheckName.FARGATE_SIZE: "task_definition",
    CheckName.IMAGE: "image",
    CheckName.SECRETS: "secrets",
    CheckName.SECRET_ACCESS: "secrets",
    CheckName.LOG_GROUP: "logging",
    CheckName.HEALTH_CHECK_PORT: "health_check_elb",
    CheckName.SUBNETS: "network",
}


class PreflightCheck(BaseModel):
    """One check's verdict and the evidence behind it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    status: CheckStatus
    summary: str
    evidence: tuple[str, ...] = ()
    resource: str | None = None


class Preflight(BaseModel):
    """Every check of one revision."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_definition: str  # ARN, or family:revision / family of a file never registered
    checks: tuple[PreflightCheck, ...]

    @property
    def failures(self) -> tuple[PreflightCheck, ...]:
        """The deterministic fails: each is enough to say no task of the revision will start."""
        return tuple(c for c in self.checks if c.status == "fail")

    @property
    def verdict(self) -> Literal["fail", "pass", "incomplete"]:
        """`fail` on any deterministic fail; `incomplete` when a check could not look; else `pass`."""
        if self.failures:
            return "fail"
        return "incomplete" if any(c.status == "cannot_check" for c in self.checks) else "pass"

    @property
    def category(self) -> str | None:
        """The stop category of the first fail (what its tasks would stop with), None without a fail."""
        failures = self.failures
        return CATEGORY_OF_CHECK.get(failures[0].name, "task_definition") if failures else None

    def reason(self) -> str:
        """One line for people: the first fail and how many more."""
        failures = self.failures
        if not failures:
            return f"preflight of {self.task_definition}: {self.verdict}"
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"preflight of {self.task_definition} failed {failures[0].name}: {failures[0].summary}{more}"


def _check(name: CheckName, problems: Sequence[str], ok: str, notes: Sequence[str] = ()) -> PreflightCheck:
    if problems:
        return PreflightCheck(name=name, status="fail", summary=problems[0], evidence=tuple(problems) + tuple(notes))
    return PreflightCheck(name=name, status="pass", summary=ok, evidence=tuple(notes))


def cannot_check(name: CheckName | str, why: str, resource: str | None = None) -> PreflightCheck:
    """A `cannot_check` verdict: the watchdog could not look, and says why."""
    return PreflightCheck(name=name, status="cannot_check", summary=why, resource=resource)


def label_of(task_definition: Mapping[str, Any]) -> str:
    """How people name the revision: its ARN, else family:revision, else the family."""
    definition = unwrap(task_definition)
    if definition.get("taskDefinitionArn"):
        return str(definition["taskDefinitionArn"])
    family = str(definition.get("family") or "(no family)")
    return f"{family}:{definition['revision']}" if definition.get("revision") else family


def offline_checks(task_definition: Mapping[str, Any]) -> tuple[PreflightCheck, ...]:
    """The checks the task definition alone decides: placeholders, execution role, Fargate size."""
    definition = unwrap(task_definition)
    placeholders = placeholder_problems(definition)
    size: list[str] = []
    if is_fargate(definition):
        problem = fargate_size_problem(definition.get("cpu"), definition.get("memory"))
        size = [problem] if problem else []
    fargate_ok = "cpu and memory are a Fargate task size" if is_fargate(definition) else "not a Fargate task"
    return (
        _check(CheckName.PLACEHOLDERS, placeholders, "no unresolved placeholder"),
        _check(
            CheckName.EXECUTION_ROLE,
            execution_role_problems(definition),
            "an execution role wherever awslogs, secrets or ECR need one",
        ),
        _check(CheckName.FARGATE_SIZE, size, fargate_ok),
    )


def image_check(task_definition: Mapping[str, Any], probe: ProbeResult) -> PreflightCheck:
    """The image probe as a verdict; `cannot_check` unless every container's image could be looked up."""
    others = [
        f"{c.get('name')}: {c.get('image')} is not in a private ECR registry: ECR cannot say whether it exists"
        for c in containers(task_definition)
        if parse_ecr_image(str(c.get("image", ""))) is None
    ]
    if probe.status == "fail":
        return PreflightCheck(
            name=CheckName.IMAGE, status="fail", summary=probe.summary, evidence=probe.evidence + tuple(others)
        )
    if probe.status == "error":
        return cannot_check(CheckName.IMAGE, probe.summary.removeprefix("could not check: "))
    if others:
        return PreflightCheck(
            name=CheckName.IMAGE,
            status="cannot_check",
            summary=others[0],
            evidence=tuple(others) + (probe.evidence if probe.status == "pass" else ()),
        )
    return PreflightCheck(name=CheckName.IMAGE, status="pass", summary=probe.summary, evidence=probe.evidence)


def from_probe(name: CheckName, probe: ProbeResult) -> PreflightCheck:
    """A probe's result as a verdict: its `fail` is a fail, its `error` a cannot-check, `skipped` nothing to check."""
    if probe.status == "error":
        return cannot_check(name, probe.summary.removeprefix("could not check: "), probe.resource)
    if probe.status == "fail":
        return PreflightCheck(
            name=name, status="fail", summary=probe.summary, evidence=probe.evidence, resource=probe.resource
        )
    return PreflightCheck(
        name=name, status="pass", summary=probe.summary, evidence=probe.evidence, resource=probe.resource
    )


def log_group_check(
    configurations: Sequence[AwslogsConfiguration],
    existing: Mapping[str, bool],
    may_create: Mapping[str, str],
) -> PreflightCheck:
    """Each awslogs group exists, or `awslogs-create-group` is true and the execution role may create it.

    `existing` says per group whether DescribeLogGroups found it; `may_create` holds the simulated
    decision on logs:CreateLogGroup (`allowed`, `implicitDeny`, `explicitDeny`) for the groups ECS is to create.
    """
    if not configurations:
        return PreflightCheck(name=CheckName.LOG_GROUP, status="pass", summary="no container logs with awslogs")
    problems: list[str] = []
    notes: list[str] = []
    for configuration in configurations:
        group, who = configuration.group, configuration.container
        if not group:
            problems.append(f"{who}: awslogs has no awslogs-group option")
        elif existing.get(group):
            notes.append(f"{who}: log group {group} exists")
        elif not configuration.create_group:
            problems.append(f"{who}: log group {group} does not exist and awslogs-create-group is not true")
        elif may_create.get(group) == "allowed":
            notes.append(f"{who}: log group {group} is created (awslogs-create-group; logs:CreateLogGroup allowed)")
        else:
            decision = may_create.get(group, "no execution role")
            problems.append(
                f"{who}: log group {group} does not exist; awslogs-create-group is true but the execution role "
                f"may not logs:CreateLogGroup ({decision})"
            )
    return _check(CheckName.LOG_GROUP, problems, "every awslogs group exists or will be created", notes)


def health_check_port_check(
    service: Mapping[str, Any], task_definition: Mapping[str, Any], target_groups: Mapping[str, Mapping[str, Any]]
) -> PreflightCheck:
    """The service's load-balanced container maps the port the service names, and each target group's
    health check probes a port the container receives on (awsvpc: the port is the container's own)."""
    attachments = [a for a in service.get("loadBalancers") or [] if a.get("targetGroupArn")]
    if not attachments:
        return PreflightCheck(
            name=CheckName.HEALTH_CHECK_PORT, status="pass", summary="the service has no target group"
        )
    network_mode = unwrap(task_definition).get("networkMode", "bridge")
    problems: list[str] = []
    notes: list[str] = []
    for attachment in attachments:
        arn, name, port = attachment["targetGroupArn"], attachment.get("containerName"), attachment.get("containerPort")
        ports = container_ports(task_definition, name)
        if port is not None and int(port) not in ports:
            problems.append(f"the service sends traffic to {name}:{port}, a port this revision's {name} does not map")
        group = target_groups.get(arn)
        if group is None:
            problems.append(f"target group {arn} does not exist")
            continue
        checked = str(group.get("HealthCheckPort") or "traffic-port")
        label = group.get("TargetGroupName", arn)
        notes.append(f"{label}: health check on port {checked}, container {name} maps {sorted(ports) or 'no port'}")
        # Bridge networking maps to dynamic host ports: only awsvpc pins the port the check must hit.
        if checked != "traffic-port" and network_mode == "awsvpc" and checked.isdigit() and int(checked) not in ports:
            problems.append(f"{label}: health check probes port {checked}, which {name} does not map")
    return _check(CheckName.HEALTH_CHECK_PORT, problems, "every health check probes a port the container maps", notes)


def preflight(task_definition: Mapping[str, Any], checks: Sequence[PreflightCheck]) -> Preflight:
    """The preflight of one revision from its checks, in the order given."""
    return Preflight(task_definition=label_of(task_definition), checks=tuple(checks))
