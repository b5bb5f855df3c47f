"""Naming a service the same way from every event type."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRef:
    """An ECS service, identified across task, deployment and service-action events."""

    account: str
    region: str
    cluster: str
    name: str

    @property
    def key(self) -> str:
        """The state-table key: account/region/cluster/service."""
        return f"{self.account}/{self.region}/{self.cluster}/{self.name}"

    @property
    def account_key(self) -> str:
        """The account-level state key: account/region."""
        return f"{self.account}/{self.region}"

    @property
    def label(self) -> str:
        """How operators name it: cluster/service."""
        return f"{self.cluster}/{self.name}"

    @classmethod
    def from_arn(cls, service_arn: str, cluster_arn: str = "") -> ServiceRef | None:
        """From `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>` (or the old `service/<name>`
        form, whose cluster then comes from `cluster_arn`). None when it is not a service ARN."""
        parts = service_arn.split(":", 5)
        if len(parts) != 6 or not parts[5].startswith("service/"):
            return None
        path = parts[5].split("/")
        if len(path) == 3:
            cluster, name = path[1], path[2]
        elif len(path) == 2 and cluster_arn:
            cluster, name = cluster_arn.rsplit("/", 1)[-1], path[1]
        else:
            return None
        return cls(account=parts[4], region=parts[3], cluster=cluster, name=name)


@dataclass(frozen=True)
class ServiceDeploymentRef:
    """A service deployment: `arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>`."""

    account: str
    region: str
    cluster: str
    service: str
    id: str

    @classmethod
    def parse(cls, arn: str) -> ServiceDeploymentRef | None:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs":
            return None
        path = parts[5].split("/")
        if len(path) != 4 or path[0] != "service-deployment" or not all(path[1:]):
            return None
        return cls(account=parts[4], region=parts[3], cluster=path[1], service=path[2], id=path[3])
