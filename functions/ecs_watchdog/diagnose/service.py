"""Service-level checks from DescribeServices / DescribeTargetGroups / DescribeTargetHealth dicts (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ecs_watchdog.diagnose.model import ProbeName, ProbeResult, failed, passed, skipped
from ecs_watchdog.diagnose.references import containers, unwrap


def service_configuration_problems(service: Mapping[str, Any]) -> list[str]:
    """Settings that let a bad deployment run unchecked or take the old version down with it."""
    problems = []
    configuration = service.get("deploymentConfiguration") or {}
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    if controller == "ECS" and not breaker.get("enable"):
        problems.append("deployment circuit breaker is off: a deployment that never becomes healthy launches forever")
    if configuration.get("minimumHealthyPercent") == 0:
        problems.append("minimumHealthyPercent is 0: ECS may stop every running task before a new one is healthy")
    if service.get("loadBalancers") and not service.get("healthCheckGracePeriodSeconds"):
        problems.append(
            "no health check grace period with a load balancer: a slow-starting task is killed before it is ready"
        )
    in_progress = [d for d in service.get("deployments") or [] if d.get("rolloutState") == "IN_PROGRESS"]
    if len(in_progress) > 1:
        problems.append(f"{len(in_progress)} deployments are in progress at once: {_ids(in_progress)}")
    return problems


def _ids(deployments: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{d.get('id')} ({str(d.get('taskDefinition', '')).rsplit('/', 1)[-1]})" for d in deployments)


def check_service_configuration(service: Mapping[str, Any]) -> ProbeResult:
    """The service configuration checks as a probe result."""
    problems = service_configuration_problems(service)
    resource = service.get("serviceArn") or service.get("serviceName")
    if problems:
        return failed(ProbeName.SERVICE_CONFIGURATION, problems[0], problems, resource)
    return passed(ProbeName.SERVICE_CONFIGURATION, "deployment safeguards are on", (), resource)


def container_ports(task_definition: Mapping[str, Any], container: str | None = None) -> set[int]:
    """The container ports `container` (or any container) maps."""
    return {
        int(mapping["containerPort"])
        for c in containers(task_definition)
        if container is None or c.get("name") == container
        for mapping in c.get("portMappings") or []
        if "containerPort" in mapping
    }


def load_balancer_problems(
    service: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    target_groups: Mapping[str, Mapping[str, Any]],
    target_health: Mapping[str, Sequence[Mapping[str, Any]]],
) -> tuple[list[str], list[str]]:
    """(problems, notes) for every target group of the service: health check vs container port,
    target type vs network mode, grace period vs time to healthy, and unhealthy targets' reasons."""
    problems: list[str] = []
    notes: list[str] = []
    network_mode = unwrap(task_definition).get("networkMode", "bridge")
    grace = int(service.get("healthCheckGracePeriodSeconds") or 0)
    for attachment in service.get("loadBalancers") or []:
        arn = attachment.get("targetGroupArn")
        if not arn:
            notes.append(f"classic load balancer {attachment.get('loadBalancerName')} is not checked")
            continue
        name, port = attachment.get("containerName"), attachment.get("containerPort")
        group = target_groups.get(arn)
        if group is None:
            problems.append(f"target group {arn} does not exist")
            continue
        label = group.get("TargetGroupName", arn)
        if port is not None and int(port) not in container_ports(task_definition, name):
            problems.append(f"{label}: the service sends traffic to {name}:{port}, a port that container does not map")
        wanted_type = "ip" if network_mode == "awsvpc" else "instance"
        if group.get("TargetType") not in (None, wanted_type):
            problems.append(
                f"{label}: target type {group.get('TargetType')} does not fit network mode {network_mode} "
                f"(needs {wanted_type})"
            )
        problems.extend(_health_check_port_problem(label, group, port, network_mode))
        matcher = (group.get("Matcher") or {}).get("HttpCode") or (group.get("Matcher") or {}).get("GrpcCode")
        notes.append(
            f"{label}: health check {group.get('HealthCheckProtocol')} port {group.get('HealthCheckPort')} "
            f"path {group.get('HealthCheckPath', '-')} expects {matcher or '-'}"
        )
        to_healthy = int(group.get("HealthCheckIntervalSeconds") or 30) * int(group.get("HealthyThresholdCount") or 5)
        if grace < to_healthy:
            problems.append(
                f"{label}: grace period {grace}s is shorter than the {to_healthy}s a new target needs to pass "
                f"{group.get('HealthyThresholdCount', 5)} checks {group.get('HealthCheckIntervalSeconds', 30)}s apart"
            )
        problems.extend(_unhealthy_targets(label, target_health.get(arn, ())))
    return problems, notes


def _health_check_port_problem(label: str, group: Mapping[str, Any], port: object, network_mode: str) -> list[str]:
    checked = str(group.get("HealthCheckPort") or "traffic-port")
    # With bridge networking host ports are dynamic: only awsvpc pins the port the check must hit.
    if checked == "traffic-port" or network_mode != "awsvpc" or port is None or int(checked) == int(str(port)):
        return []
    return [f"{label}: health check probes port {checked}, but the container receives traffic on {port}"]


def _unhealthy_targets(label: str, descriptions: Sequence[Mapping[str, Any]]) -> list[str]:
    found = []
    for description in descriptions:
        health = description.get("TargetHealth") or {}
        if health.get("State") in ("unhealthy", "unavailable"):
            target = description.get("Target") or {}
            found.append(
                f"{label}: target {target.get('Id')}:{target.get('Port')} is {health.get('State')} "
                f"({health.get('Reason', 'no reason')}: {health.get('Description', '')})"
            )
    return found


def assess_load_balancer(
    service: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    target_groups: Mapping[str, Mapping[str, Any]],
    target_health: Mapping[str, Sequence[Mapping[str, Any]]],
) -> ProbeResult:
    """The load balancer checks as a probe result; skipped for a service without target groups."""
    arns = [a["targetGroupArn"] for a in service.get("loadBalancers") or [] if a.get("targetGroupArn")]
    if not arns:
        return skipped(ProbeName.LOAD_BALANCER, "the service has no target group")
    problems, notes = load_balancer_problems(service, task_definition, target_groups, target_health)
    if problems:
        return failed(ProbeName.LOAD_BALANCER, problems[0], problems + notes, arns[0])
    return passed(ProbeName.LOAD_BALANCER, "target groups fit the container and no target is unhealthy", notes, arns[0])
