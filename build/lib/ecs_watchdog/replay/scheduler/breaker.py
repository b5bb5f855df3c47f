"""The deployment circuit breaker: count a deployment's failed tasks, fail it and roll back at the threshold.

One failure counter per deployment covers both of ECS's stages (never RUNNING; stopped after RUNNING);
resetOnHealthyTask (default true) zeroes it when one of the deployment's tasks turns healthy. Only the
primary deployment, while IN_PROGRESS, is monitored: a steady-state break is invisible to it, as in ECS.
On a trip the deployment is FAILED; with rollback, a new deployment of the most recent COMPLETED
deployment's revision starts; without rollback, or with nothing COMPLETED (a brand-new service), the
deployment stalls and launches nothing more.
"""

from __future__ import annotations

from ecs_watchdog.replay.scheduler.core import SchedulerCore
from ecs_watchdog.replay.scheduler.model import LiveDeployment, LiveService
from ecs_watchdog.replay.scheduler.threshold import breaker_threshold


class CircuitBreaker(SchedulerCore):
    """The breaker's part of the scheduler."""

    def _count_breaker_failure(self, svc: LiveService, dep: LiveDeployment) -> None:
        breaker = svc.config.breaker
        if not breaker.enable or dep is not svc.deployments[0] or dep.rollout_state != "IN_PROGRESS":
            return
        dep.breaker_failures += 1
        if dep.breaker_failures >= breaker_threshold(breaker, svc.desired_count):
            self._trip_breaker(svc, dep)

    def _trip_breaker(self, svc: LiveService, dep: LiveDeployment) -> None:
        if dep.stage is not None and svc.config.breaker.rollback and len(svc.deployments) > 1:
            # A staged deployment: blue still serves beside green, so production goes back to it.
            blue = svc.deployments[1]
            self._roll_back_staged(
                svc,
                dep,
                reason=f"ECS deployment circuit breaker: rolling back to deploymentId {blue.deployment_id}.",
                cause=f"circuit breaker rollback to {svc.spec.name}:{blue.revision}",
            )
            return
        dep.rollout_state = "FAILED"
        dep.rollout_state_reason = "ECS deployment circuit breaker: tasks failed to start."
        dep.updated_at = self.now
        self._emit_deployment(svc, dep, "SERVICE_DEPLOYMENT_FAILED", "ERROR", dep.rollout_state_reason)
        self._message(
            svc,
            f"(service {svc.spec.name}) (deployment {dep.deployment_id}) deployment failed: tasks failed to start.",
        )
        target = svc.last_completed
        if svc.config.breaker.rollback and target is not None:
            dep.service_deployment_status = "ROLLBACK_IN_PROGRESS"
            dep.rolled_back_to = target.revision
            self._start_deployment(
                svc,
                target.revision,
                cause=f"circuit breaker rollback to {svc.spec.name}:{target.revision}",
                reason=(f"ECS deployment circuit breaker: rolling back to deploymentId {target.deployment_id}."),
            )
        else:
            # Nothing COMPLETED to return to, or rollback off: the deployment stalls, launching nothing.
            dep.stalled = True
            dep.service_deployment_status = "STOPPED"
            dep.finished_at = self.now
            svc.last_change = "circuit breaker: deployment failed, launches stopped"
