"""Deployments: a new primary per deploy, older ones ACTIVE with their rollout state, completion.

A deploy (or UpdateService with another task definition, or forceNewDeployment) creates a PRIMARY
deployment; older ones become ACTIVE and keep their rolloutState (so two can be IN_PROGRESS, as in seed
002). A deployment completes when it has `desired` healthy tasks and older deployments have none left.
"""

from __future__ import annotations

from ecs_watchdog.replay.scheduler.core import SchedulerCore
from ecs_watchdog.replay.scheduler.model import RUNNING_VERSION, LiveDeployment, LiveService
from ecs_watchdog.replay.scheduler.throttle import reset_throttle


class Deployments(SchedulerCore):
    """The deployments' part of the scheduler."""

    def _new_deployment_id(self, svc: LiveService) -> str:
        return f"ecs-svc/{svc.rng.randrange(10**18, 10**19)}"

    def _seed_steady_service(self, svc: LiveService, revision: int) -> None:
        """A service already serving `revision` at minute 0: one COMPLETED deployment, healthy tasks."""
        dep = LiveDeployment(
            deployment_id=self._new_deployment_id(svc),
            revision=revision,
            created_at=-86400.0,
            updated_at=-3600.0,
            source_revisions=(),
            rollout_state="COMPLETED",
            service_deployment_status="SUCCESSFUL",
            finished_at=-3600.0,
        )
        dep.rollout_state_reason = f"ECS deployment {dep.deployment_id} completed."
        svc.deployments = [dep]
        svc.history = [dep]
        svc.last_completed = dep
        svc.steady = True
        for _ in range(svc.desired_count):
            task = self._make_task(svc, dep, created_at=-3600.0)
            task.last_status = "RUNNING"
            task.version = RUNNING_VERSION
            task.started_at = -3570.0
            task.healthy = True
            task.failing = False  # it has been serving for an hour: whatever breaks later, breaks it anew
            dep.tasks[task.task_id] = task

    def _start_deployment(self, svc: LiveService, revision: int, *, cause: str, reason: str | None = None) -> None:
        previous = svc.deployments[0] if svc.deployments else None
        if previous is None or previous.revision != revision:
            reset_throttle(svc)
        dep = LiveDeployment(
            deployment_id=self._new_deployment_id(svc),
            revision=revision,
            created_at=self.now,
            updated_at=self.now,
            source_revisions=tuple(sorted({d.revision for d in svc.deployments if d.tasks})),
        )
        dep.rollout_state_reason = f"ECS deployment {dep.deployment_id} in progress."
        for old in svc.deployments:
            old.status = "ACTIVE"
        svc.deployments.insert(0, dep)
        svc.history.append(dep)
        svc.steady = False
        svc.last_change = cause
        self._emit_deployment(
            svc,
            dep,
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            "INFO",
            reason or f"ECS deployment {dep.deployment_id} in progress.",
        )
        if svc.config.strategy != "ROLLING":
            self._begin_stages(svc, dep)

    def _complete(self, svc: LiveService, dep: LiveDeployment) -> None:
        dep.rollout_state = "COMPLETED"
        dep.rollout_state_reason = f"ECS deployment {dep.deployment_id} completed."
        dep.service_deployment_status = "SUCCESSFUL"
        dep.finished_at = self.now
        dep.updated_at = self.now
        for old in svc.deployments[1:]:
            old.status = "INACTIVE"
            if old.service_deployment_status == "ROLLBACK_IN_PROGRESS":
                old.service_deployment_status = "ROLLBACK_SUCCESSFUL"
            elif old.service_deployment_status == "IN_PROGRESS":
                old.service_deployment_status = "STOPPED"
            old.finished_at = old.finished_at or self.now
        svc.deployments = [dep]
        svc.last_completed = dep
        self._emit_deployment(svc, dep, "SERVICE_DEPLOYMENT_COMPLETED", "INFO", dep.rollout_state_reason)
        self._message(svc, f"(service {svc.spec.name}) (deployment {dep.deployment_id}) deployment completed.")
