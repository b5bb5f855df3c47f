"""Which services run tasks on a container instance (ListTasks by containerInstance, then DescribeTasks),
so an impaired instance's message can name them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger(child=True)
DESCRIBE_BATCH = 100  # DescribeTasks takes at most 100 tasks per call
MAX_TASKS = 500  # an instance runs far fewer; bounds the calls one event can cost


class InstanceTasks:
    """The services with tasks on a container instance, from ECS."""

    def __init__(self, ecs: Any) -> None:
        self._ecs = ecs

    def services_on(self, cluster: str, container_instance: str) -> list[str]:
        """Names of the services with tasks on the instance, sorted; empty (logged) when ECS cannot say:
        telling people about the instance must not wait on naming its services."""
        try:
            arns: list[str] = []
            for page in self._ecs.get_paginator("list_tasks").paginate(
                cluster=cluster, containerInstance=container_instance
            ):
                arns += page.get("taskArns", [])
                if len(arns) >= MAX_TASKS:
                    break
            services: set[str] = set()
            arns = arns[:MAX_TASKS]
            for start in range(0, len(arns), DESCRIBE_BATCH):
                answer = self._ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_BATCH])
                for task in answer.get("tasks", []):
                    group = str(task.get("group") or "")
                    if group.startswith("service:"):
                        services.add(group.split(":", 1)[1])
            return sorted(services)
        except (ClientError, BotoCoreError) as error:
            # Here, not at the top: aws/diagnosis.py loads every probe, which the events handler's cold
            # start does without.
            from ecs_watchdog.aws.diagnosis import describe_failure

            logger.warning(
                "cannot list the tasks on an impaired instance: its services go unnamed",
                extra={"container_instance": container_instance, "problem": describe_failure(error)},
            )
            return []
