"""DescribeServices in memory: what aws/ecs.Services answers, per service, or an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ecs_watchdog.incidents.contract import DeploymentSnapshot, ServiceSnapshot

T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)


def completed_snapshot(task_definition: str, deployment_id: str = "ecs-svc/1000000000000000001") -> ServiceSnapshot:
    """DescribeServices of a service settled on `task_definition` (its PRIMARY deployment COMPLETED)."""
    return ServiceSnapshot(
        deployments=(
            DeploymentSnapshot(deployment_id, task_definition, "PRIMARY", "COMPLETED", T0 - timedelta(days=1)),
        )
    )


@dataclass
class MemoryServices:
    """`flow.pipeline.ServiceLookup`: a snapshot per (cluster, service), `default` for the rest, or an error."""

    snapshots: dict[tuple[str, str], ServiceSnapshot | None] = field(default_factory=dict)
    default: ServiceSnapshot | None = None
    error: Exception | None = None  # raised by every look-up while set (throttling, a missing permission)
    lookups: list[tuple[str, str]] = field(default_factory=list)

    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None:
        """The service's deployments and tags; None when ECS does not know the service."""
        self.lookups.append((cluster, service))
        if self.error is not None:
            raise self.error
        return self.snapshots.get((cluster, service), self.default)
