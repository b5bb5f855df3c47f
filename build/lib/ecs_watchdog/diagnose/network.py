"""Can the task's subnets start a task and reach what it needs? (pure, from EC2 describe dicts)

A Fargate task pulls its image (ECR API, ECR registry, S3 layers), fetches secrets and ships logs
before its container starts; each needs an internet route (a public IP behind an internet gateway,
or a NAT gateway) or a VPC endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ecs_watchdog.diagnose.model import ProbeName, ProbeResult, failed, passed
from ecs_watchdog.diagnose.references import (
    awslogs_configurations,
    containers,
    parse_ecr_image,
    secret_references,
)

Egress = Literal["internet_gateway", "nat_gateway", "other", "none"]


def endpoints_needed(task_definition: Mapping[str, Any]) -> tuple[str, ...]:
    """The AWS services (VPC endpoint short names) the task reaches before its container starts."""
    needed: list[str] = []
    if any(parse_ecr_image(str(c.get("image", ""))) for c in containers(task_definition)):
        needed += ["ecr.api", "ecr.dkr", "s3"]
    kinds = {ref.kind for ref in secret_references(task_definition)}
    needed += [kind for kind in ("secretsmanager", "ssm") if kind in kinds]
    if awslogs_configurations(task_definition):
        needed.append("logs")
    return tuple(needed)


def default_route(routes: Sequence[Mapping[str, Any]]) -> Egress:
    """Where a route table sends 0.0.0.0/0."""
    for route in routes:
        if route.get("DestinationCidrBlock") != "0.0.0.0/0" or route.get("State") == "blackhole":
            continue
        if str(route.get("GatewayId", "")).startswith("igw-"):
            return "internet_gateway"
        if route.get("NatGatewayId"):
            return "nat_gateway"
        return "other"  # transit gateway, firewall or appliance: cannot be judged from here
    return "none"


@dataclass(frozen=True)
class SubnetView:
    """What the network probe knows of one subnet of the service."""

    subnet_id: str
    available_ips: int
    egress: Egress


def endpoint_short_name(service_name: str) -> str:
    """`com.amazonaws.us-east-1.ecr.dkr` -> `ecr.dkr`."""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 else service_name


def assess_network(
    subnets: Sequence[SubnetView],
    assign_public_ip: bool,
    endpoint_services: frozenset[str],
    needed: Sequence[str],
) -> ProbeResult:
    """Free IP addresses in each subnet and a way to every service the task needs, per subnet."""
    problems: list[str] = []
    evidence: list[str] = []
    for subnet in subnets:
        evidence.append(f"{subnet.subnet_id}: {subnet.available_ips} free IP addresses, default route {subnet.egress}")
        if subnet.available_ips == 0:
            problems.append(f"{subnet.subnet_id} has no free IP address: no task can get a network interface there")
        missing = _unreachable(subnet.egress, assign_public_ip, endpoint_services, needed)
        if missing:
            problems.append(f"{subnet.subnet_id} has no route to {', '.join(missing)}: {_why(subnet)}")
    if endpoint_services:
        evidence.append(f"VPC endpoints: {', '.join(sorted(endpoint_services))}")
    resource = ",".join(s.subnet_id for s in subnets) or None
    if problems:
        return failed(ProbeName.NETWORK, problems[0], problems + evidence, resource)
    return passed(ProbeName.NETWORK, "every subnet has free addresses and a way out", evidence, resource)


def _unreachable(
    egress: Egress, assign_public_ip: bool, endpoint_services: frozenset[str], needed: Sequence[str]
) -> list[str]:
    if egress in ("nat_gateway", "other") or (egress == "internet_gateway" and assign_public_ip):
        return []
    return [service for service in needed if service not in endpoint_services]


def _why(subnet: SubnetView) -> str:
    if subnet.egress == "internet_gateway":
        return "public subnet but assignPublicIp is DISABLED, and no VPC endpoint"
    return "no NAT gateway or internet gateway route, and no VPC endpoint"
