"""Read-only ECS look-ups: essential containers for the classifier, deployments for the incident engine."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ecs_watchdog.incidents.contract import DeploymentSnapshot, ServiceSnapshot
from ecs_watchdog.incidents.policy import threshold_from_tags

logger = Logger(child=True)


class TaskDefinitions:
    """Which containers of a task definition are essential. Events do not say; a revision never
    changes, so each ARN is described once per warm container and kept in a bounded cache."""

    def __init__(self, client: Any, max_entries: int = 256) -> None:
        self._client = client
        self._cache: OrderedDict[str, frozenset[str] | None] = OrderedDict()
        self._max = max_entries

    def essential_containers(self, task_definition_arn: str) -> frozenset[str] | None:
        """Names of the essential containers, or None when the task definition cannot be read."""
        if task_definition_arn in self._cache:
            self._cache.move_to_end(task_definition_arn)
            return self._cache[task_definition_arn]
        try:
            definition = self._client.describe_task_definition(taskDefinition=task_definition_arn)["taskDefinition"]
            # `essential` defaults to true when a container definition leaves it out.
            names = frozenset(c["name"] for c in definition.get("containerDefinitions", []) if c.get("essential", True))
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "cannot describe task definition; the classifier will guess the essential container",
                extra={"task_definition": task_definition_arn, "error": str(error)},
            )
            return None  # not cached: a throttle or a missing permission may clear up
        self._cache[task_definition_arn] = names
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return names


class Services:
    """DescribeServices as the incident engine needs it: deployments and tags of one service."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None:
        """The service's deployments and tags; None when ECS does not know the service (or its cluster).

        Any other error (throttling, a missing permission) propagates: the event goes back to SQS,
        because deciding without the last known good would be guessing.
        """
        try:
            response = self._client.describe_services(cluster=cluster, services=[service], include=["TAGS"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ClusterNotFoundException":
                return None
            raise
        found = response["services"]
        if not found:
            logger.warning(
                "ECS does not know this service",
                extra={"cluster": cluster, "service": service, "failures": response.get("failures")},
            )
            return None
        described = found[0]
        tags = {t["key"]: t["value"] for t in described.get("tags", [])}
        try:
            override = threshold_from_tags(tags)
        except ValueError as error:
            logger.warning("ignoring an invalid service tag", extra={"service": service, "problem": str(error)})
            override = None
        return ServiceSnapshot(
            deployments=tuple(
                DeploymentSnapshot(
                    id=d["id"],
                    task_definition=d["taskDefinition"],
                    status=d.get("status", ""),
                    rollout_state=d.get("rolloutState"),
                    created_at=d.get("createdAt"),
                )
                for d in described.get("deployments", [])
            ),
            tags=tags,
            threshold_override=override,
        )
