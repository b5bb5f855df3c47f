"""The rolling update: launch and drain within minimumHealthyPercent / maximumPercent, then settle.

New tasks are launched while the service's live tasks stay within floor(desired x maximumPercent);
old tasks are stopped to make room only while the healthy tasks stay at or above ceil(desired x
minimumHealthyPercent); old deployments shrink to desired - healthy new tasks. With
minimumHealthyPercent 0 and maximumPercent 100 (seed 004) the first deployment stops every old task
before starting new ones.
"""

from __future__ import annotations

import math

from ecs_watchdog.replay.scheduler.core import SchedulerCore
from ecs_watchdog.replay.scheduler.model import LiveService, LiveTask
from ecs_watchdog.replay.scheduler.records import ServiceActionEvent
from ecs_watchdog.replay.scheduler.statistics import check_containment


class RollingUpdate(SchedulerCore):
    """The rolling update's part of the scheduler."""

    def _reconcile(self, svc: LiveService) -> None:
        if not svc.deployments:
            return  # a brand-new service before its first deployment
        primary = svc.deployments[0]
        if primary.stage is not None and primary.rollout_state == "IN_PROGRESS":
            self._reconcile_staged(svc)
            return
        desired = svc.desired_count
        lower = math.ceil(desired * svc.config.minimum_healthy_percent / 100)
        upper = desired * svc.config.maximum_percent // 100
        drain_reason = f"Scaling activity initiated by (deployment {primary.deployment_id})"

        # Old deployments shrink to what the new one does not yet cover with healthy tasks.
        primary_healthy = sum(1 for t in primary.tasks.values() if t.healthy)
        old_tasks = self._old_tasks_in_stop_order(svc)
        excess = len(old_tasks) - max(0, desired - primary_healthy)
        healthy_total = primary_healthy + sum(1 for t in old_tasks if t.healthy)
        for task in old_tasks:
            if excess <= 0:
                break
            if task.healthy and healthy_total - 1 < lower:
                continue
            healthy_total -= task.healthy
            self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=drain_reason, failure=False)
            excess -= 1

        # The primary deployment scales in, or launches what it lacks within the percent window.
        self._trim_primary(svc, primary, desired, drain_reason)
        want = desired - len(primary.tasks)
        if want > 0 and not primary.stalled and not self._waiting_for_throttle(svc):
            old_tasks = self._old_tasks_in_stop_order(svc)
            room = upper - len(primary.tasks) - len(old_tasks)
            healthy_total = sum(1 for t in primary.tasks.values() if t.healthy) + sum(1 for t in old_tasks if t.healthy)
            for task in old_tasks:
                if room >= want:
                    break
                if task.healthy and healthy_total - 1 < lower:
                    continue
                healthy_total -= task.healthy
                self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=drain_reason, failure=False)
                room += 1
            if min(want, room) > 0:
                self._launch(svc, primary, min(want, room))

        # Completion and steady state.
        primary_healthy = sum(1 for t in primary.tasks.values() if t.healthy)
        settled = primary_healthy == desired == len(primary.tasks) and not any(d.tasks for d in svc.deployments[1:])
        if settled and primary.rollout_state == "IN_PROGRESS":
            self._complete(svc, primary)
        if settled and not svc.steady and primary.rollout_state == "COMPLETED":
            svc.steady = True
            self._message(svc, f"(service {svc.spec.name}) has reached a steady state.")
            self._out.append(ServiceActionEvent(self.now, svc.spec.name, "SERVICE_STEADY_STATE", "INFO"))
        check_containment(svc, self.now)

    @staticmethod
    def _old_tasks_in_stop_order(svc: LiveService) -> list[LiveTask]:
        # Unhealthy and pending tasks go first, then the oldest deployments' tasks.
        old = [t for d in reversed(svc.deployments[1:]) for t in d.tasks.values()]
        return sorted(old, key=lambda t: t.healthy)
