"""Every cluster and service of the account and region, as the sweep reads them (read-only ECS calls).

ListServices is read a page of 10 at a time (DescribeServices takes at most 10), so the sweep can stop
after any page and resume from its token next run. Throttling is botocore's business: the client is
built with `SWEEP_CLIENT_CONFIG` (adaptive retries: backoff plus a client-side rate limiter).
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config

from ecs_watchdog.sweep.judgement import DescribedDeployment, DescribedService

DESCRIBE_CHUNK = 10  # DescribeServices' limit per call
SWEEP_CLIENT_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=10)


class EcsInventory:
    """ListClusters, ListServices (page by page) and DescribeServices as `DescribedService`."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def clusters(self) -> list[str]:
        """Every cluster ARN, sorted (a stable order the sweep's cursor can point into)."""
        arns: list[str] = []
        for page in self._client.get_paginator("list_clusters").paginate():
            arns += page.get("clusterArns", [])
        return sorted(arns)

    def service_page(self, cluster: str, token: str | None) -> tuple[list[str], str | None]:
        """One page (at most 10) of the cluster's service ARNs and the token of the next, None at the end."""
        response = self._client.list_services(
            cluster=cluster, maxResults=DESCRIBE_CHUNK, **({"nextToken": token} if token else {})
        )
        return response.get("serviceArns", []), response.get("nextToken")

    def describe(self, cluster: str, service_arns: list[str]) -> list[DescribedService]:
        """The services as the sweep judges them, described 10 at a time (a page may hold more: ECS
        caps maxResults at 100, and emulators ignore it); ones ECS no longer knows are left out."""
        described: list[DescribedService] = []
        for start in range(0, len(service_arns), DESCRIBE_CHUNK):
            chunk = service_arns[start : start + DESCRIBE_CHUNK]
            response = self._client.describe_services(cluster=cluster, services=chunk)
            described += [_described(s, cluster) for s in response.get("services", []) if s.get("status") != "INACTIVE"]
        return described


def _described(service: dict[str, Any], cluster: str) -> DescribedService:
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    breaker = (service.get("deploymentConfiguration") or {}).get("deploymentCircuitBreaker")
    return DescribedService(
        arn=service["serviceArn"],
        cluster_arn=service.get("clusterArn") or cluster,
        desired_count=int(service.get("desiredCount", 0)),
        running_count=int(service.get("runningCount", 0)),
        deployments=tuple(
            DescribedDeployment(
                id=d["id"],
                status=d.get("status", ""),
                rollout_state=d.get("rolloutState"),
                task_definition=d.get("taskDefinition", ""),
                created_at=d.get("createdAt"),
                failed_tasks=int(d.get("failedTasks", 0)),
                running_count=int(d.get("runningCount", 0)),
            )
            for d in service.get("deployments", [])
        ),
        # The breaker only applies to the ECS (rolling) controller; an absent setting means off.
        circuit_breaker=bool(breaker and breaker.get("enable")) if controller == "ECS" else None,
    )
