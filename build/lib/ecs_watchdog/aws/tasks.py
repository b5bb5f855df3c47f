"""Find the service a task belongs to (DescribeTasks `group`), for a diagnosis asked by task ARN."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ecs_watchdog.aws.diagnosis import describe_failure
from ecs_watchdog.diagnose.request import TaskLookupError, service_of_group


def service_of_task(ecs: Any, cluster: str, task: str) -> str:
    """The name of the service that started `task`; TaskLookupError (never a botocore error) otherwise."""
    try:
        answer = ecs.describe_tasks(cluster=cluster, tasks=[task])
    except (ClientError, BotoCoreError) as error:
        raise TaskLookupError(f"cannot describe task {task}: {describe_failure(error)}") from None
    found = answer.get("tasks") or []
    if not found:
        reasons = ", ".join(str(f.get("reason")) for f in answer.get("failures") or []) or "not found"
        raise TaskLookupError(f"ECS does not know task {task} in cluster {cluster} ({reasons})")
    group = found[0].get("group")
    service = service_of_group(group)
    if service is None:
        raise TaskLookupError(
            f"task {task} was not started by a service (group {group!r}): give cluster and service instead"
        )
    return service
