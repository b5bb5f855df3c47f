"""Simulation events -> the exact EventBridge envelopes ECS sends.

Shapes follow the ECS developer guide's examples for `ECS Task State Change`, `ECS Deployment State
Change` and `ECS Service Action`: the envelope's `version` is "0", `time` has second precision, detail
timestamps have milliseconds, task events carry `detail.version` (growing with every state of one task)
and no task health, deployment and service events name the service only in `resources`. Event ids come
from an RNG seeded by the scenario seed, so a replay is byte-for-byte repeatable.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from ecs_watchdog.replay.scheduler import (
    DeploymentEvent,
    HookEvent,
    LambdaHookInvocation,
    ServiceActionEvent,
    SimEvent,
    TaskEvent,
)

ACCOUNT_ID = "123456789012"

TASK_STATE_CHANGE = "ECS Task State Change"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"
HOOK_STATE_CHANGE = "ECS Hook State Change"


def cluster_arn(region: str, cluster: str) -> str:
    """arn:aws:ecs:{region}:{account}:cluster/{cluster}"""
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/{cluster}"


def service_arn(region: str, cluster: str, service: str) -> str:
    """The long service ARN format: arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"""
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service/{cluster}/{service}"


def task_arn(region: str, cluster: str, task_id: str) -> str:
    """arn:aws:ecs:{region}:{account}:task/{cluster}/{32 hex}"""
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task/{cluster}/{task_id}"


def task_definition_arn(region: str, family: str, revision: int) -> str:
    """arn:aws:ecs:{region}:{account}:task-definition/{family}:{revision}"""
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}:{revision}"


def service_deployment_arn(region: str, cluster: str, service: str, deployment_id: str) -> str:
    """The ServiceDeployment ARN for a deployment id `ecs-svc/<digits>`."""
    suffix = deployment_id.split("/")[-1]
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service-deployment/{cluster}/{service}/{suffix}"


def service_revision_arn(region: str, cluster: str, service: str, revision: int) -> str:
    """A service revision ARN, one per task definition revision in the model."""
    return f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service-revision/{cluster}/{service}/{revision:019d}"


def iso_millis(moment: datetime) -> str:
    """2025-01-01T00:00:00.000Z, as in detail timestamps (`moment` is in UTC)."""
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def iso_seconds(moment: datetime) -> str:
    """2025-01-01T00:00:00Z, as in the envelope's `time` (`moment` is in UTC)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


class EnvelopeFactory:
    """Turns one scenario's simulation events into EventBridge envelopes (dicts ready for JSON)."""

    def __init__(self, *, seed: int, region: str, cluster: str, start: datetime) -> None:
        """`start` is the wall time of simulated second 0."""
        self._rng = random.Random(f"{seed}/envelopes")
        self.region = region
        self.cluster = cluster
        self.start = start

    def at(self, seconds: float) -> datetime:
        """Wall time of a simulated second (rounded to the millisecond, like ECS timestamps)."""
        return self.start + timedelta(milliseconds=round(seconds * 1000))

    def envelope(self, event: SimEvent) -> dict[str, Any]:
        """The EventBridge envelope for one simulation event."""
        if isinstance(event, TaskEvent):
            return self._wrap(
                TASK_STATE_CHANGE,
                event.at,
                [task_arn(self.region, self.cluster, event.task_id)],
                self._task_detail(event),
            )
        if isinstance(event, HookEvent):
            return self._hook(event)
        resources = [service_arn(self.region, self.cluster, event.service)]
        if isinstance(event, DeploymentEvent):
            detail: dict[str, Any] = {
                "eventType": event.event_type,
                "eventName": event.event_name,
                "deploymentId": event.deployment_id,
                "updatedAt": iso_millis(self.at(event.at)),
                "reason": event.reason,
            }
            return self._wrap(DEPLOYMENT_STATE_CHANGE, event.at, resources, detail)
        assert isinstance(event, ServiceActionEvent)
        detail = {
            "eventType": event.event_type,
            "eventName": event.event_name,
            "clusterArn": cluster_arn(self.region, self.cluster),
            "createdAt": iso_millis(self.at(event.at)),
        }
        return self._wrap(SERVICE_ACTION, event.at, resources, detail)

    def _hook(self, event: HookEvent) -> dict[str, Any]:
        # resources[0] is the service deployment's ARN, not the service's.
        deployment = service_deployment_arn(self.region, self.cluster, event.service, event.deployment_id)
        detail = {
            "eventType": "INFO",
            "eventName": event.event_name,
            "hookId": event.hook_id,
            "hookType": event.hook_type,
            "lifecycleStage": event.stage,
            "expiresAt": iso_millis(self.at(event.expires_at)),
            "clusterArn": cluster_arn(self.region, self.cluster),
            "serviceArn": service_arn(self.region, self.cluster, event.service),
            "serviceDeploymentArn": deployment,
            "createdAt": iso_millis(self.at(event.at)),
        }
        return self._wrap(HOOK_STATE_CHANGE, event.at, [deployment], detail)

    def lambda_hook_payload(self, invocation: LambdaHookInvocation) -> dict[str, Any]:
        """What ECS passes a Lambda lifecycle hook ("Lambda hooks for Amazon ECS service deployments", ECS
        developer guide; tests/fixtures/events/lambda_hook_invocation.json): the execution and its stage at the
        top, the service and the target revision in `executionDetails`, and the `hookDetails` the previous
        invocation returned. Before the production shift the old revision has all the traffic."""
        target = service_revision_arn(self.region, self.cluster, invocation.service, invocation.revision)
        weights: dict[str, int] = {target: 0}
        if invocation.source_revision is not None:
            source = service_revision_arn(self.region, self.cluster, invocation.service, invocation.source_revision)
            weights = {source: 100, target: 0}
        return {
            "executionId": invocation.hook_id,
            "lifecycleStage": invocation.stage,
            "resourceArn": service_deployment_arn(
                self.region, self.cluster, invocation.service, invocation.deployment_id
            ),
            "executionDetails": {
                "serviceArn": service_arn(self.region, self.cluster, invocation.service),
                "targetServiceRevisionArn": target,
                "testTrafficWeights": dict(weights),
                "productionTrafficWeights": dict(weights),
            },
            "hookDetails": dict(invocation.hook_details),
        }

    def _wrap(self, detail_type: str, at: float, resources: list[str], detail: dict[str, Any]) -> dict[str, Any]:
        return {
            "version": "0",
            "id": self._event_id(),
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": ACCOUNT_ID,
            "time": iso_seconds(self.at(at)),
            "region": self.region,
            "resources": resources,
            "detail": detail,
        }

    def _event_id(self) -> str:
        h = f"{self._rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _task_detail(self, event: TaskEvent) -> dict[str, Any]:
        arn = task_arn(self.region, self.cluster, event.task_id)
        stopped = event.last_status == "STOPPED"
        containers = []
        for c in event.containers:
            container: dict[str, Any] = {
                "containerArn": f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:container/{self.cluster}/"
                f"{event.task_id}/{c.container_id}",
                "lastStatus": c.last_status,
                "name": c.name,
                "image": c.image,
                "taskArn": arn,
                "networkInterfaces": [],
                "cpu": "0",
            }
            if c.exit_code is not None:
                container["exitCode"] = c.exit_code
            if c.reason is not None:
                container["reason"] = c.reason
            containers.append(container)
        created = self.at(event.created_at)
        detail: dict[str, Any] = {
            "attachments": [],
            "availabilityZone": f"{self.region}a",
            "clusterArn": cluster_arn(self.region, self.cluster),
            "containers": containers,
            "cpu": "256",
            "createdAt": iso_millis(created),
            "desiredStatus": "STOPPED" if stopped else "RUNNING",
            "enableExecuteCommand": False,
            "group": f"service:{event.service}",
            "launchType": event.launch_type,
            "lastStatus": event.last_status,
            "memory": "512",
            "overrides": {"containerOverrides": [{"name": c.name} for c in event.containers]},
            "startedBy": event.deployment_id,
            "taskArn": arn,
            "taskDefinitionArn": task_definition_arn(self.region, event.service, event.revision),
            "updatedAt": iso_millis(self.at(event.at)),
            "version": event.version,
        }
        if event.launch_type == "FARGATE":
            detail["platformVersion"] = "1.4.0"
        if event.capacity_provider is not None:
            detail["capacityProviderName"] = event.capacity_provider
        if event.started_at is not None:
            detail["connectivity"] = "CONNECTED"
            detail["connectivityAt"] = iso_millis(created + timedelta(seconds=5))
            detail["pullStartedAt"] = iso_millis(created + timedelta(seconds=6))
            detail["pullStoppedAt"] = iso_millis(self.at(event.started_at) - timedelta(seconds=2))
            detail["startedAt"] = iso_millis(self.at(event.started_at))
        if stopped and event.stopped_at is not None:
            stopped_at = self.at(event.stopped_at)
            # ECS reports stopping and execution-stopped moments just before the final STOPPED.
            detail["stopCode"] = event.stop_code
            detail["stoppedReason"] = event.stopped_reason
            detail["stoppingAt"] = iso_millis(stopped_at - timedelta(seconds=2))
            detail["executionStoppedAt"] = iso_millis(stopped_at - timedelta(seconds=1))
            detail["stoppedAt"] = iso_millis(stopped_at)
        return detail
