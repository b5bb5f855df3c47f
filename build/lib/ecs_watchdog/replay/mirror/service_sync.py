"""Keeping moto's ECS services in step with the model: one service's view (counts, task definition,
deployments, deploymentConfiguration, latest events) copied into moto's backend, so that moto answers
DescribeServices with the model's state.
"""

from __future__ import annotations

from typing import Any

from ecs_watchdog.replay.envelopes import ACCOUNT_ID, task_definition_arn
from ecs_watchdog.replay.mirror.configuration import deployment_configuration
from ecs_watchdog.replay.mirror.references import ModelReferences
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import DeploymentView, Scheduler

# ECS returns the latest 100 service events; moto spends most of a DescribeServices call serializing
# them, so the mirror copies the latest 20 (still more than a watchdog reads) to keep storms fast.
MIRRORED_SERVICE_MESSAGES = 20


class ServiceSync:
    """Writes the model's view of a service onto moto's copy of it."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler, references: ModelReferences) -> None:
        self.scenario = scenario
        self.scheduler = scheduler
        self._at = references.at

    def sync(self, name: str) -> None:
        """Copy the model's view of one service into moto's ECS backend."""
        from moto.ecs.models import ecs_backends

        view = self.scheduler.service(name)
        region = self.scenario.region
        service = ecs_backends[ACCOUNT_ID][region]._get_service(self.scenario.cluster, name)
        service.desired_count = view.desired_count
        service.running_count = view.running_count
        service.pending_count = view.pending_count
        if view.primary_revision is not None:
            service.task_definition = task_definition_arn(region, name, view.primary_revision)
        # moto drops deploymentConfiguration on create; its serializer returns the attribute when set.
        service.deployment_configuration = deployment_configuration(view.config)  # type: ignore[attr-defined]
        service.deployments = [self._deployment_dict(name, d) for d in view.deployments]
        service.events = [
            {"id": m.message_id, "createdAt": self._at(m.at), "message": m.message}
            for m in view.messages[:MIRRORED_SERVICE_MESSAGES]
        ]

    def _deployment_dict(self, name: str, d: DeploymentView) -> dict[str, Any]:
        return {
            "id": d.deployment_id,
            "status": d.status,
            "taskDefinition": task_definition_arn(self.scenario.region, name, d.revision),
            "desiredCount": d.desired_count,
            "pendingCount": d.pending_count,
            "runningCount": d.running_count,
            "failedTasks": d.failed_tasks,
            "createdAt": self._at(d.created_at),
            "updatedAt": self._at(d.updated_at),
            "launchType": self.scenario.service(name).launch_type,
            "platformVersion": "1.4.0",
            "platformFamily": "Linux",
            "rolloutState": d.rollout_state,
            "rolloutStateReason": d.rollout_state_reason,
        }
