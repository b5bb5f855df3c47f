"""Preflight a revision: the read-only look-ups behind diagnose/preflight.py's verdicts.

The image, secrets and network probes of aws/probes.py are reused as they are; the log-group check adds
a simulation of logs:CreateLogGroup for groups ECS is asked to create, and the health-check-port check
reads the target groups only (the old revision's unhealthy targets say nothing of the new one). Each
check runs isolated: whatever one cannot look up is its `cannot_check`, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.probes import (
    execution_role,
    probe_image,
    probe_network,
    probe_secret_access,
    probe_secrets,
)
from ecs_watchdog.diagnose.preflight import (
    OFFLINE_CHECKS,
    CheckName,
    Preflight,
    PreflightCheck,
    cannot_check,
    from_probe,
    health_check_port_check,
    image_check,
    log_group_check,
    offline_checks,
    preflight,
)
from ecs_watchdog.diagnose.references import awslogs_configurations


def _why(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{error.operation_name}: {details.get('Code')}: {details.get('Message')}"
    return f"{type(error).__name__}: {error}"


def _isolated(name: CheckName, check: Callable[[], PreflightCheck]) -> PreflightCheck:
    try:
        return check()
    except Exception as error:  # isolation: one look-up that fails must not hide the other checks
        return cannot_check(name, _why(error))


def check_log_groups(clients: ProbeClients, task_definition: Mapping[str, Any]) -> PreflightCheck:
    """Each awslogs group exists (DescribeLogGroups), or may be created by the execution role."""
    configurations = awslogs_configurations(task_definition)
    existing: dict[str, bool] = {}
    may_create: dict[str, str] = {}
    role = execution_role(task_definition)
    for configuration in configurations:
        group = configuration.group
        if not group or group in existing:
            continue
        logs = clients.client("logs", configuration.region)
        # The exact name sorts first among the names it prefixes, so the first page is enough.
        listed = logs.describe_log_groups(logGroupNamePrefix=group, limit=1).get("logGroups", [])
        existing[group] = any(g.get("logGroupName") == group for g in listed)
        if existing[group] or not configuration.create_group or not role:
            continue
        partition, account = role.split(":")[1], role.split(":")[4]
        region = configuration.region or clients.region
        arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group}:*"
        answer = clients.client("iam").simulate_principal_policy(
            PolicySourceArn=role, ActionNames=["logs:CreateLogGroup"], ResourceArns=[arn]
        )
        results = answer.get("EvaluationResults") or [{}]
        may_create[group] = str(results[0].get("EvalDecision", "implicitDeny"))
    return log_group_check(configurations, existing, may_create)


def check_health_check_ports(
    clients: ProbeClients, service: Mapping[str, Any], task_definition: Mapping[str, Any]
) -> PreflightCheck:
    """The service's target groups (DescribeTargetGroups) against the new revision's port mappings."""
    groups: dict[str, Any] = {}
    for attachment in service.get("loadBalancers") or []:
        arn = attachment.get("targetGroupArn")
        if not arn:
            continue
        try:
            groups[arn] = clients.client("elbv2").describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TargetGroupNotFound":
                raise
    return health_check_port_check(service, task_definition, groups)


def preflight_revision(
    clients: ProbeClients | None,
    task_definition: Mapping[str, Any],
    service: Mapping[str, Any] | None = None,
    *,
    read_secret_values: bool = False,
) -> Preflight:
    """Every preflight check of one revision. Without clients only the offline checks look; without a
    service the checks that need one (health-check port, subnets) cannot check. Never raises."""
    checks = list(offline_checks(task_definition))
    if clients is None:
        why = "offline: no AWS look-ups"
        checks += [cannot_check(name, why) for name in CheckName if name not in OFFLINE_CHECKS]
        return preflight(task_definition, checks)
    checks.append(
        _isolated(CheckName.IMAGE, lambda: image_check(task_definition, probe_image(clients, task_definition)))
    )
    checks.append(
        _isolated(
            CheckName.SECRETS,
            lambda: from_probe(
                CheckName.SECRETS, probe_secrets(clients, task_definition, read_secret_values=read_secret_values)
            ),
        )
    )
    checks.append(
        _isolated(
            CheckName.SECRET_ACCESS,
            lambda: from_probe(CheckName.SECRET_ACCESS, probe_secret_access(clients, task_definition)),
        )
    )
    checks.append(_isolated(CheckName.LOG_GROUP, lambda: check_log_groups(clients, task_definition)))
    if service is None:
        why = "no service given (--cluster/--service): its target groups and subnets are unknown"
        checks += [cannot_check(CheckName.HEALTH_CHECK_PORT, why), cannot_check(CheckName.SUBNETS, why)]
    else:
        checks.append(
            _isolated(CheckName.HEALTH_CHECK_PORT, lambda: check_health_check_ports(clients, service, task_definition))
        )
        checks.append(
            _isolated(
                CheckName.SUBNETS,
                lambda: from_probe(CheckName.SUBNETS, probe_network(clients, service, task_definition)),
            )
        )
    return preflight(task_definition, checks)
