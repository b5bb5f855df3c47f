"""Preflight a revision: the read-only look-ups behind diagnose/preflight.py's verdicts.

The image, secrets and network probes of aws/probes.py are reused as they are; the log-group check adds
a simulation of logs:CreateLogGroup for groups ECS is asked to create, and the health-check-port check
reads the target groups only (the old revision's unhealthy targets say nothing of the new one). Each
check runs isolated: whatever one cannot look up is its `cannot_check`, never an exception.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
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

logger = Logger(child=True)


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


NO_LOAD_BALANCER_READS = "this function does not read target groups: `ecs-watchdog preflight --service` does"


def preflight_revision(
    clients: ProbeClients | None,
    task_definition: Mapping[str, Any],
    service: Mapping[str, Any] | None = None,
    *,
    read_secret_values: bool = False,
    load_balancer: bool = True,
) -> Preflight:
    """Every preflight check of one revision. Without clients only the offline checks look; without a
    service the checks that need one (health-check port, subnets) cannot check; `load_balancer=False`
    leaves the target groups unread (a role without elasticloadbalancing:DescribeTargetGroups). Never raises."""
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
            if load_balancer
            else cannot_check(CheckName.HEALTH_CHECK_PORT, NO_LOAD_BALANCER_READS)
        )
        checks.append(
            _isolated(
                CheckName.SUBNETS,
                lambda: from_probe(CheckName.SUBNETS, probe_network(clients, service, task_definition)),
            )
        )
    return preflight(task_definition, checks)


@dataclass
class RevisionPreflighter:
    """The events function's preflight of a new deployment's revision (flow/changes.py's RevisionPreflight):
    DescribeTaskDefinition and DescribeServices, then the checks. One answer per revision and service is
    kept for `max_age` seconds (a decision retried on a write conflict asks again at once; an image pushed
    a minute later is seen). None when the revision cannot be described: nothing is judged then."""

    clients: ProbeClients
    max_age: float = 60.0
    max_entries: int = 128
    clock: Callable[[], float] = time.monotonic
    _cache: OrderedDict[tuple[str, str, str], tuple[float, Preflight]] = field(default_factory=OrderedDict)

    def __call__(self, task_definition: str, cluster: str, service: str) -> Preflight | None:
        key = (task_definition, cluster, service)
        now = self.clock()
        cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        ecs = self.clients.client("ecs")
        try:
            definition = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
            found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
        except Exception as error:  # the watchdog's own trouble judges nothing
            logger.warning("preflight could not describe the revision", extra={"problem": _why(error)[:300]})
            return None
        checked = preflight_revision(self.clients, definition, found[0] if found else None, load_balancer=False)
        self._cache[key] = (now, checked)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return checked
