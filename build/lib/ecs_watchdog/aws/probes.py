"""Read-only probes: look up what a task definition and a service point at, and say what is wrong.

Each probe makes a few describe calls and hands the answers to the pure checks in `diagnose/`.
Probes never read a secret's value unless asked (`read_secret_values`), and never return or log it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.diagnose.model import ProbeName, ProbeResult, failed, passed, skipped
from ecs_watchdog.diagnose.network import (
    SubnetView,
    assess_network,
    default_route,
    endpoint_short_name,
    endpoints_needed,
)
from ecs_watchdog.diagnose.references import (
    SecretReference,
    awslogs_configurations,
    containers,
    parse_ecr_image,
    secret_references,
    unwrap,
)
from ecs_watchdog.diagnose.service import assess_load_balancer


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _verdict(name: str, problems: list[str], notes: list[str], ok: str, resource: str | None) -> ProbeResult:
    if problems:
        return failed(name, problems[0], problems + notes, resource)
    return passed(name, ok, notes, resource)


def probe_image(clients: ProbeClients, task_definition: Mapping[str, Any]) -> ProbeResult:
    """Each container's private ECR image exists (repository, then tag or digest); other registries are skipped."""
    problems: list[str] = []
    notes: list[str] = []
    checked = 0
    for container in containers(task_definition):
        image_uri = str(container.get("image", ""))
        image = parse_ecr_image(image_uri)
        if image is None:
            notes.append(f"{container.get('name')}: {image_uri} is not in a private ECR registry: cannot be checked")
            continue
        checked += 1
        try:
            found = clients.client("ecr", image.region).describe_images(
                registryId=image.account, repositoryName=image.repository, imageIds=[image.image_id]
            )["imageDetails"][0]
        except ClientError as error:
            if _code(error) == "RepositoryNotFoundException":
                problems.append(f"repository {image.repository} does not exist in {image.account}/{image.region}")
            elif _code(error) == "ImageNotFoundException":
                problems.append(f"{image.label} is not in the repository (never pushed, or deleted)")
            else:
                raise
            continue
        notes.append(f"{image.label} exists: {found.get('imageDigest')}, pushed {found.get('imagePushedAt')}")
    if not checked:
        return skipped(ProbeName.IMAGE, "no private ECR image: images in other registries cannot be checked")
    return _verdict(ProbeName.IMAGE, problems, notes, "every ECR image exists", None)


def probe_secrets(
    clients: ProbeClients, task_definition: Mapping[str, Any], *, read_secret_values: bool = False
) -> ProbeResult:
    """Each referenced secret or parameter exists and is not scheduled for deletion (metadata only).

    With `read_secret_values`, a Secrets Manager value is parsed to say whether it is valid JSON and
    holds the keys the task definition names; the value itself never leaves `_json_verdict`.
    """
    every = secret_references(task_definition)
    if not every:
        return skipped(ProbeName.SECRETS, "the task definition references no secret or parameter")
    problems: list[str] = []
    notes: list[str] = []
    for reference in _unique(every):
        if reference.kind == "secretsmanager":
            keys = {r.json_key for r in every if r.secret_id == reference.secret_id and r.json_key}
            _check_secret(clients, reference, keys if read_secret_values else None, problems, notes)
        else:
            _check_parameter(clients, reference, problems, notes)
    return _verdict(ProbeName.SECRETS, problems, notes, "every secret and parameter exists", every[0].secret_id)


def _unique(references: tuple[SecretReference, ...]) -> list[SecretReference]:
    seen: dict[tuple[str, str], SecretReference] = {}
    for reference in references:
        seen.setdefault((reference.kind, reference.secret_id), reference)
    return list(seen.values())


def _check_secret(
    clients: ProbeClients, reference: SecretReference, keys: set[str] | None, problems: list[str], notes: list[str]
) -> None:
    client = clients.client("secretsmanager", reference.region)
    try:
        described = client.describe_secret(SecretId=reference.secret_id)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        problems.append(f"secret {reference.secret_id} does not exist (used by {reference.container})")
        return
    name = described["Name"]
    versions = described.get("VersionIdsToStages") or {}
    if described.get("DeletedDate"):
        problems.append(f"secret {name} is scheduled for deletion on {described['DeletedDate']}")
    if reference.version_stage and reference.version_stage not in {s for v in versions.values() for s in v}:
        problems.append(f"secret {name} has no version labelled {reference.version_stage}")
    if reference.version_id and reference.version_id not in versions:
        problems.append(f"secret {name} has no version {reference.version_id}")
    notes.append(f"secret {name}: KMS key {described.get('KmsKeyId') or 'aws/secretsmanager (AWS managed)'}")
    if keys is None or described.get("DeletedDate"):
        return
    valid, present = _json_verdict(client, reference, keys)
    verdict = f"valid JSON: {'yes' if valid else 'no'}"
    if keys:
        verdict += f", keys referenced by the task definition present: {'yes' if present else 'no'}"
    notes.append(f"secret {name}: {verdict}")
    if keys and not present:  # ECS parses the value only when a JSON key is referenced
        problems.append(f"secret {name}: {verdict}")


def _json_verdict(client: Any, reference: SecretReference, keys: set[str]) -> tuple[bool, bool]:
    """(valid JSON object?, every key present?) of the secret's value; the value is not kept."""
    arguments = {"SecretId": reference.secret_id}
    if reference.version_id:
        arguments["VersionId"] = reference.version_id
    elif reference.version_stage:
        arguments["VersionStage"] = reference.version_stage
    try:
        parsed = json.loads(client.get_secret_value(**arguments).get("SecretString") or "")
    except ValueError:
        return False, False
    if not isinstance(parsed, dict):
        return False, False
    return True, keys.issubset(parsed)


def _check_parameter(clients: ProbeClients, reference: SecretReference, problems: list[str], notes: list[str]) -> None:
    found = (
        clients.client("ssm", reference.region)
        .describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": list(reference.parameter_names)}]
        )
        .get("Parameters", [])
    )
    if not found:
        problems.append(f"parameter {reference.value_from} does not exist (used by {reference.container})")
        return
    parameter = found[0]
    key = f", KMS key {parameter['KeyId']}" if parameter.get("KeyId") else ""
    notes.append(f"parameter {parameter['Name']}: {parameter.get('Type')}{key}")


def probe_logging(clients: ProbeClients, task_definition: Mapping[str, Any]) -> ProbeResult:
    """Each awslogs group exists, or the task definition asks ECS to create it (awslogs-create-group)."""
    configurations = awslogs_configurations(task_definition)
    if not configurations:
        return skipped(ProbeName.LOGGING, "no container logs with the awslogs driver")
    problems: list[str] = []
    notes: list[str] = []
    for configuration in configurations:
        group = configuration.group
        if not group:
            problems.append(f"{configuration.container}: awslogs has no awslogs-group option")
            continue
        # The exact name sorts first among the names it prefixes, so the first page is enough.
        listed = clients.client("logs", configuration.region).describe_log_groups(logGroupNamePrefix=group, limit=1)
        exists = any(g.get("logGroupName") == group for g in listed.get("logGroups", []))
        if exists:
            notes.append(f"{configuration.container}: log group {group} exists")
        elif configuration.create_group:
            notes.append(
                f"{configuration.container}: log group {group} does not exist yet; awslogs-create-group is true, "
                "so the execution role needs logs:CreateLogGroup"
            )
        else:
            problems.append(f"{configuration.container}: log group {group} does not exist")
    first = configurations[0].group
    return _verdict(ProbeName.LOGGING, problems, notes, "every awslogs group exists or is created", first)


def probe_load_balancer(
    clients: ProbeClients, service: Mapping[str, Any], task_definition: Mapping[str, Any]
) -> ProbeResult:
    """The service's target groups against its container, and the reasons targets are unhealthy."""
    elbv2 = clients.client("elbv2")
    groups: dict[str, Any] = {}
    health: dict[str, Any] = {}
    for attachment in service.get("loadBalancers") or []:
        arn = attachment.get("targetGroupArn")
        if not arn:
            continue
        try:
            groups[arn] = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        except ClientError as error:
            if _code(error) != "TargetGroupNotFound":
                raise
            continue  # assess_load_balancer reports it missing
        health[arn] = elbv2.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return assess_load_balancer(service, task_definition, groups, health)


def probe_network(clients: ProbeClients, service: Mapping[str, Any], task_definition: Mapping[str, Any]) -> ProbeResult:
    """Free addresses in the service's subnets and a route (or VPC endpoint) to what the task needs."""
    awsvpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or not awsvpc.get("subnets"):
        return skipped(ProbeName.NETWORK, "the service does not use awsvpc subnets")
    ec2 = clients.client("ec2")
    subnets = ec2.describe_subnets(SubnetIds=awsvpc["subnets"])["Subnets"]
    vpc_ids = sorted({s["VpcId"] for s in subnets})
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])["RouteTables"]
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": vpc_ids}])["VpcEndpoints"]
    views = [
        SubnetView(s["SubnetId"], int(s.get("AvailableIpAddressCount", 0)), default_route(_routes_of(s, tables)))
        for s in subnets
    ]
    available = frozenset(
        endpoint_short_name(e["ServiceName"]) for e in endpoints if e.get("State", "available") == "available"
    )
    public = awsvpc.get("assignPublicIp") == "ENABLED"
    return assess_network(views, public, available, endpoints_needed(task_definition))


def _routes_of(subnet: Mapping[str, Any], tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The routes of the subnet's route table: its explicit association, else its VPC's main table."""
    for table in tables:
        if any(a.get("SubnetId") == subnet["SubnetId"] for a in table.get("Associations", [])):
            return list(table.get("Routes", []))
    for table in tables:
        if table.get("VpcId") == subnet["VpcId"] and any(a.get("Main") for a in table.get("Associations", [])):
            return list(table.get("Routes", []))
    return []


def execution_role(task_definition: Mapping[str, Any]) -> str | None:
    """The task definition's execution role ARN, if any."""
    return unwrap(task_definition).get("executionRoleArn") or None


_AWS_MANAGED_KEY_PREFIX = "alias/aws/"


def probe_secret_access(clients: ProbeClients, task_definition: Mapping[str, Any]) -> ProbeResult:
    """Whether the execution role's own policies allow fetching each secret and parameter and
    decrypting their customer-managed KMS keys (iam:SimulatePrincipalPolicy; resource and key
    policies are not part of the simulation)."""
    references = _unique(secret_references(task_definition))
    if not references:
        return skipped(ProbeName.SECRET_ACCESS, "the task definition references no secret or parameter")
    role = execution_role(task_definition)
    if not role:
        return failed(ProbeName.SECRET_ACCESS, "no execution role: ECS has no identity to fetch the secrets with")
    partition, account = role.split(":")[1], role.split(":")[4]
    secrets = [r.secret_id for r in references if r.kind == "secretsmanager"]
    parameters = [_parameter_arn(r, partition, clients.region, account) for r in references if r.kind == "ssm"]
    keys, notes = _customer_keys(clients, references, partition, account)
    problems: list[str] = []
    iam = clients.client("iam")
    for action, resources in (
        ("secretsmanager:GetSecretValue", secrets),
        ("ssm:GetParameters", parameters),
        ("kms:Decrypt", keys),
    ):
        if not resources:
            continue
        answer = iam.simulate_principal_policy(PolicySourceArn=role, ActionNames=[action], ResourceArns=resources)
        for evaluation in answer.get("EvaluationResults", []):
            for resource, decision in _decisions(evaluation):
                line = f"{action} on {resource}: {decision}"
                (notes if decision == "allowed" else problems).append(line)
    return _verdict(ProbeName.SECRET_ACCESS, problems, notes, "the execution role may read every secret", role)


def _decisions(evaluation: Mapping[str, Any]) -> list[tuple[str, str]]:
    specific = evaluation.get("ResourceSpecificResults") or []
    if specific:
        return [(r["EvalResourceName"], r["EvalResourceDecision"]) for r in specific]
    return [(evaluation.get("EvalResourceName", "*"), evaluation["EvalDecision"])]


def _parameter_arn(reference: SecretReference, partition: str, region: str, account: str) -> str:
    if reference.value_from.startswith("arn:"):
        return reference.value_from
    return f"arn:{partition}:ssm:{reference.region or region}:{account}:parameter/{reference.secret_id.lstrip('/')}"


def _customer_keys(
    clients: ProbeClients, references: list[SecretReference], partition: str, account: str
) -> tuple[list[str], list[str]]:
    """ARNs of the customer-managed KMS keys protecting the references (AWS-managed keys need no grant)."""
    keys: list[str] = []
    notes: list[str] = []
    for reference in references:
        region = reference.region or clients.region
        try:
            if reference.kind == "secretsmanager":
                key = clients.client("secretsmanager", region).describe_secret(SecretId=reference.secret_id)
                key_id = key.get("KmsKeyId")
            else:
                found = (
                    clients.client("ssm", region)
                    .describe_parameters(
                        ParameterFilters=[
                            {"Key": "Name", "Option": "Equals", "Values": list(reference.parameter_names)}
                        ]
                    )
                    .get("Parameters", [])
                )
                key_id = found[0].get("KeyId") if found else None
        except ClientError as error:
            notes.append(f"{reference.secret_id}: KMS key unknown ({_code(error)})")
            continue
        if not key_id or key_id.startswith(_AWS_MANAGED_KEY_PREFIX):
            continue
        if key_id.startswith("arn:"):
            keys.append(key_id)
        elif key_id.startswith("alias/"):
            notes.append(f"{reference.secret_id}: KMS key {key_id} is an alias; its key's policy is not simulated")
        else:
            keys.append(f"arn:{partition}:kms:{region}:{account}:key/{key_id}")
    return sorted(set(keys)), notes
