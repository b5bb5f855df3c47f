"""What a task definition points at, parsed: ECR images, secrets and parameters, awslogs groups.

Pure parsing of the strings ECS accepts; the probes look the parsed references up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

# <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn] or the dual-stack <account>.dkr-ecr.<region>.on.aws
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.(?:dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr\.(?P<dual_region>[a-z0-9-]+)\.on\.aws)"
    r"/(?P<repository>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class EcrImage:
    """A private ECR image reference. With neither tag nor digest, Docker pulls `latest`."""

    account: str
    region: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def image_id(self) -> dict[str, str]:
        """The DescribeImages `imageIds` entry: the digest when pinned (it is what gets pulled)."""
        if self.digest:
            return {"imageDigest": self.digest}
        return {"imageTag": self.tag or "latest"}

    @property
    def label(self) -> str:
        """`repository:tag` or `repository@digest`, for people to read."""
        return f"{self.repository}@{self.digest}" if self.digest else f"{self.repository}:{self.tag or 'latest'}"


def parse_ecr_image(image: str) -> EcrImage | None:
    """The ECR parts of a private ECR image URI; None for any other registry (Docker Hub, ECR Public, ...)."""
    match = _ECR_IMAGE.match(image.strip())
    if match is None:
        return None
    return EcrImage(
        account=match["account"],
        region=match["region"] or match["dual_region"],
        repository=match["repository"],
        tag=match["tag"],
        digest=match["digest"],
    )


SecretKind = Literal["secretsmanager", "ssm"]


@dataclass(frozen=True)
class SecretReference:
    """One `valueFrom` of a task definition: which secret or parameter, and which part of it.

    For Secrets Manager, `secret_id` is the ARN without the `:json-key:version-stage:version-id`
    suffix. For SSM, `secret_id` is the ARN or name as written and `parameter_names` the names it may
    stand for: `parameter/a/b` is `/a/b`, but `parameter/db` is `db` or `/db` (AWS writes both alike).
    """

    kind: SecretKind
    value_from: str
    container: str
    used_as: str  # environment variable, log option or "registry credentials"
    secret_id: str
    region: str | None = None
    account: str | None = None
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None
    parameter_names: tuple[str, ...] = ()


def parse_secret_reference(value_from: str, container: str = "", used_as: str = "") -> SecretReference:
    """Parse a `valueFrom`: a Secrets Manager ARN (with its optional JSON-key suffix), an SSM parameter
    ARN, or a bare SSM parameter name (allowed when the parameter is in the task's region)."""
    text = value_from.strip()
    parts = text.split(":")
    if text.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager" and parts[5] == "secret":
        suffix = [p or None for p in parts[7:10]] + [None] * 3
        return SecretReference(
            kind="secretsmanager",
            value_from=value_from,
            container=container,
            used_as=used_as,
            secret_id=":".join(parts[:7]),
            region=parts[3] or None,
            account=parts[4] or None,
            json_key=suffix[0],
            version_stage=suffix[1],
            version_id=suffix[2],
        )
    if text.startswith("arn:") and len(parts) >= 6 and parts[2] == "ssm" and parts[5].startswith("parameter/"):
        name = ":".join(parts[5:]).removeprefix("parameter/")
        return SecretReference(
            kind="ssm",
            value_from=value_from,
            container=container,
            used_as=used_as,
            secret_id=text,
            region=parts[3] or None,
            account=parts[4] or None,
            parameter_names=(f"/{name}",) if "/" in name else (name, f"/{name}"),
        )
    return SecretReference(
        kind="ssm", value_from=value_from, container=container, used_as=used_as, secret_id=text, parameter_names=(text,)
    )


def containers(task_definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The container definitions of a DescribeTaskDefinition `taskDefinition` (or the whole response)."""
    return list(unwrap(task_definition).get("containerDefinitions") or [])


def unwrap(task_definition: Mapping[str, Any]) -> Mapping[str, Any]:
    """Accept either the `taskDefinition` object or the DescribeTaskDefinition response holding it."""
    inner = task_definition.get("taskDefinition")
    return inner if isinstance(inner, Mapping) else task_definition


def secret_references(task_definition: Mapping[str, Any]) -> tuple[SecretReference, ...]:
    """Every secret and parameter the task needs at start: container secrets, log-driver secret
    options and private-registry credentials."""
    found: list[SecretReference] = []
    for container in containers(task_definition):
        name = container.get("name", "")
        for secret in container.get("secrets") or []:
            found.append(parse_secret_reference(secret["valueFrom"], name, secret.get("name", "")))
        for option in (container.get("logConfiguration") or {}).get("secretOptions") or []:
            found.append(parse_secret_reference(option["valueFrom"], name, f"log option {option.get('name', '')}"))
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            found.append(parse_secret_reference(credentials, name, "registry credentials"))
    return tuple(found)


@dataclass(frozen=True)
class AwslogsConfiguration:
    """The awslogs log driver options of one container."""

    container: str
    group: str | None
    region: str | None
    create_group: bool


def awslogs_configurations(task_definition: Mapping[str, Any]) -> tuple[AwslogsConfiguration, ...]:
    """The containers that log with the awslogs driver, and where to."""
    return tuple(
        AwslogsConfiguration(
            container=container.get("name", ""),
            group=options.get("awslogs-group"),
            region=options.get("awslogs-region"),
            create_group=str(options.get("awslogs-create-group", "")).lower() == "true",
        )
        for container, options in _log_options(task_definition, "awslogs")
    )


def _log_options(task_definition: Mapping[str, Any], driver: str) -> Iterator[tuple[Mapping[str, Any], dict]]:
    for container in containers(task_definition):
        configuration = container.get("logConfiguration") or {}
        if configuration.get("logDriver") == driver:
            yield container, dict(configuration.get("options") or {})


def is_fargate(task_definition: Mapping[str, Any]) -> bool:
    """Whether the task definition is meant for Fargate (FARGATE in requiresCompatibilities)."""
    return "FARGATE" in (unwrap(task_definition).get("requiresCompatibilities") or [])
