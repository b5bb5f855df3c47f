"""The service's recent tasks, running and stopped, and its desired count, for the judgements of
contain/transient.py (transient start-up failures; nothing left to wait for).

Two ListTasks (RUNNING, STOPPED: ECS shows stopped tasks for about an hour) and one DescribeTasks per 100
tasks, read-only. Bounded: at most `MAX_TASKS` of each status, the first page only, so a large service
costs the same four calls. A task listed but not described raises: its judges take no partial view.
"""

from __future__ import annotations

from typing import Any

from ecs_watchdog.contain.transient import TASKS_LISTED, TaskSample

MAX_TASKS = TASKS_LISTED  # ListTasks' page and DescribeTasks' limit


class ServiceTasks:
    """Reads a service's tasks through an ECS client."""

    def __init__(self, ecs_client: Any) -> None:
        self._ecs = ecs_client

    def desired_count(self, cluster: str, service: str) -> int | None:
        """The service's desired count (one DescribeServices); None when ECS does not know the service."""
        described = self._ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
        return int(described[0].get("desiredCount", 0)) if described else None

    def service_tasks(self, cluster: str, service: str) -> list[TaskSample]:
        """The service's running and recently stopped tasks (at most MAX_TASKS of each)."""
        arns: list[str] = []
        for status in ("RUNNING", "STOPPED"):
            answer = self._ecs.list_tasks(
                cluster=cluster, serviceName=service, desiredStatus=status, maxResults=MAX_TASKS
            )
            arns += answer.get("taskArns", [])
        samples: list[TaskSample] = []
        for start in range(0, len(arns), MAX_TASKS):
            described = self._ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + MAX_TASKS])
            if described.get("failures"):
                # A task listed but not described (MISSING): a partial view could hide the one that runs.
                raise LookupError(f"ECS could not describe {len(described['failures'])} of the service's tasks")
            samples += [_sample(t) for t in described.get("tasks", [])]
        return samples


def _sample(task: dict[str, Any]) -> TaskSample:
    return TaskSample(
        task_definition=task.get("taskDefinitionArn", ""),
        task_arn=task.get("taskArn", ""),
        started_by=task.get("startedBy", ""),
        last_status=task.get("lastStatus", ""),
        health_status=task.get("healthStatus", "UNKNOWN"),
        created_at=task.get("createdAt"),
        started_at=task.get("startedAt"),
        stopped_at=task.get("stoppedAt"),
        stop_code=task.get("stopCode"),
        stopped_reason=task.get("stoppedReason"),
    )
