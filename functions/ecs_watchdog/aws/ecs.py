"""Read-only ECS look-ups the classifier needs."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

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
