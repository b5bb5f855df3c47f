"""Builders for realistic ECS events of one service (shapes from the AWS samples in fixtures/events)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import load_event

ACCOUNT, REGION, CLUSTER, SERVICE = "123456789012", "us-east-1", "prod", "api"
T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/api:v9"
PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
    f"failed to resolve ref {IMAGE}: {IMAGE}: not found"
)


def td(revision: int, family: str = "api") -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def stamp(minute: float) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def stopped(
    n: int,
    minute: float,
    *,
    revision: int = 6,
    service: str = SERVICE,
    reason: str = PULL_ERROR,
    stop_code: str = "TaskFailedToStart",
    version: int = 3,
    exit_code: int | None = None,
) -> dict[str, Any]:
    event = load_event("task_state_change_stopped")
    task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{n:032x}"
    event.update(
        id=f"00000000-0000-4000-8000-{n:012d}", account=ACCOUNT, region=REGION, time=stamp(minute), resources=[task_arn]
    )
    event["detail"].update(
        clusterArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        taskArn=task_arn,
        group=f"service:{service}",
        taskDefinitionArn=td(revision),
        startedBy="ecs-svc/2000000000000000002",
        stopCode=stop_code,
        stoppedReason=reason,
        stoppedAt=stamp(minute),
        version=version,
    )
    event["detail"]["containers"] = [
        {
            "name": "api",
            "image": IMAGE,
            "reason": reason if exit_code is None else None,
            "exitCode": exit_code,
            "lastStatus": "STOPPED",
            "taskArn": task_arn,
        }
    ]
    return event


def benign(n: int, minute: float) -> dict[str, Any]:
    event = stopped(
        n,
        minute,
        revision=5,
        stop_code="ServiceSchedulerInitiated",
        reason="Scaling activity initiated by (deployment ecs-svc/2000000000000000002)",
        exit_code=143,
    )
    return event


def _service_event(sample: str, minute: float, service: str) -> dict[str, Any]:
    """An AWS sample event about a service, moved to this account, service and minute."""
    event = load_event(sample)
    event.update(
        account=ACCOUNT,
        region=REGION,
        time=stamp(minute),
        resources=[f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{service}"],
    )
    return event


def deployment(name: str, deployment_id: str, minute: float, service: str = SERVICE) -> dict[str, Any]:
    event = _service_event("deployment_completed", minute, service)
    event["detail"].update(
        eventName=name,
        deploymentId=deployment_id,
        updatedAt=stamp(minute),
        eventType="ERROR" if name.endswith("FAILED") else "INFO",
    )
    return event


def service_action(name: str, minute: float, service: str = SERVICE) -> dict[str, Any]:
    event = _service_event("service_action_steady_state", minute, service)
    event["detail"].update(
        eventName=name, createdAt=stamp(minute), clusterArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"
    )
    return event


def bodies(*events: dict[str, Any]) -> list[str]:
    return [json.dumps(e) for e in events]
