"""The ECS service scheduler for every service of one scenario, on a virtual clock.

No boto3 and no wall clock: time is the float `now`, in seconds from the scenario's start, and every
random choice comes from RNGs seeded by the scenario seed and the service name (so one service's fate
never shifts another's). This class assembles the parts (task fates, rolling update, circuit breaker,
deployments) and adds what the outside calls: the views and the commands UpdateService & co. map to.
"""

from __future__ import annotations

from ecs_watchdog.replay.scenario import (
    Break,
    Deploy,
    DeploymentConfig,
    Scale,
    SpotInterruption,
    StopTasks,
    TimelineEntry,
)
from ecs_watchdog.replay.scheduler.breaker import CircuitBreaker
from ecs_watchdog.replay.scheduler.deployments import Deployments
from ecs_watchdog.replay.scheduler.fates import TaskFates
from ecs_watchdog.replay.scheduler.lifecycle import Lifecycle
from ecs_watchdog.replay.scheduler.model import LiveService, LiveTask, QueueKind
from ecs_watchdog.replay.scheduler.records import (
    Containment,
    DeploymentView,
    SchedulerCommandError,
    ServiceView,
    TaskView,
)
from ecs_watchdog.replay.scheduler.rolling import RollingUpdate
from ecs_watchdog.replay.scheduler.statistics import good_deployments_rolled_back

SPOT_REASON = "Your Spot Task was interrupted."


class Scheduler(RollingUpdate, CircuitBreaker, TaskFates, Deployments, Lifecycle):
    """The ECS service scheduler for every service of one scenario, on a virtual clock."""

    # -- views ---------------------------------------------------------------------------------------

    @property
    def service_names(self) -> tuple[str, ...]:
        """Every service, in scenario order."""
        return tuple(self._services)

    def service(self, name: str) -> ServiceView:
        """The service's state now (KeyError for an unknown name)."""
        svc = self._services[name]
        live = svc.live()
        return ServiceView(
            name=name,
            desired_count=svc.desired_count,
            running_count=sum(1 for t in live if t.last_status == "RUNNING"),
            pending_count=sum(1 for t in live if t.last_status != "RUNNING"),
            healthy_count=sum(1 for t in live if t.healthy),
            primary_revision=svc.deployments[0].revision if svc.deployments else None,
            config=svc.config,
            deployments=tuple(self._deployment_view(svc, d) for d in svc.deployments),
            messages=tuple(reversed(svc.messages)),
        )

    def deployment_history(self, name: str) -> tuple[DeploymentView, ...]:
        """Every deployment the service ever had, newest first (ListServiceDeployments)."""
        svc = self._services[name]
        return tuple(self._deployment_view(svc, d) for d in reversed(svc.history))

    def task(self, task_id: str) -> TaskView | None:
        """One task by id, live or stopped; None if the model never launched it."""
        owner = self._task_owner.get(task_id)
        if owner is None:
            return None
        t = self._services[owner].tasks[task_id]
        return TaskView(
            task_id=t.task_id,
            service=t.service,
            revision=t.revision,
            deployment_id=t.deployment_id,
            last_status=t.last_status,
            desired_status="STOPPED" if t.last_status == "STOPPED" else "RUNNING",
            healthy=t.healthy,
            version=t.version,
            created_at=t.created_at,
            started_at=t.started_at,
            stopped_at=t.stopped_at,
            stop_code=t.stop_code,
            stopped_reason=t.stopped_reason,
            containers=t.containers or self._containers(self._services[owner], t, "PENDING"),
        )

    def task_ids(self, name: str, desired_status: str = "RUNNING") -> tuple[str, ...]:
        """Ids of the service's live tasks (RUNNING) or stopped ones (STOPPED), oldest first."""
        svc = self._services[name]
        if desired_status == "STOPPED":
            return tuple(t.task_id for t in svc.tasks.values() if t.last_status == "STOPPED")
        return tuple(t.task_id for t in svc.tasks.values() if t.last_status != "STOPPED")

    def failed_tasks(self, name: str) -> int:
        """Failed (non-benign) task stops of the service so far."""
        return self._services[name].stats.failed_total

    def good_deployments_rolled_back(self, name: str) -> int:
        """How many deployments of a good revision something other than the timeline undid (statistics.py)."""
        return good_deployments_rolled_back(self._services[name])

    def containment(self, name: str) -> Containment | None:
        """When the service stopped launching failing tasks, if it did after failing."""
        return self._services[name].stats.containment

    def first_failure_at(self, name: str) -> float | None:
        """Time of the service's first failed task stop."""
        return self._services[name].stats.first_failure_at

    # -- commands (what UpdateService & co. do) ---------------------------------------------------------

    def update_service(
        self,
        name: str,
        *,
        desired_count: int | None = None,
        revision: int | None = None,
        force_new_deployment: bool = False,
        config: DeploymentConfig | None = None,
        cause: str = "UpdateService",
    ) -> None:
        """UpdateService: change the desired count, the task definition (a new deployment) or the config."""
        svc = self._services[name]
        if revision is not None and not any(r.revision == revision for r in svc.spec.revisions):
            raise SchedulerCommandError(
                "ClientException", f"TaskDefinition not found: {svc.spec.name}:{revision} is not registered."
            )
        if config is not None:
            svc.config = config
        if desired_count is not None and desired_count != svc.desired_count:
            svc.desired_count = desired_count
            svc.last_change = cause
            svc.steady = False
        primary_revision = svc.deployments[0].revision if svc.deployments else None
        if (revision is not None and revision != primary_revision) or force_new_deployment:
            self._start_deployment(svc, revision if revision is not None else primary_revision or 0, cause=cause)
        self._reconcile(svc)

    def stop_service_deployment(self, name: str, deployment_id: str, stop_type: str = "ROLLBACK") -> None:
        """StopServiceDeployment(ROLLBACK): roll the in-progress deployment back to the last completed one."""
        svc = self._services[name]
        if stop_type != "ROLLBACK":
            raise SchedulerCommandError("InvalidParameterException", "The valid values for stopType are ROLLBACK.")
        dep = next((d for d in svc.deployments if d.deployment_id == deployment_id), None)
        if dep is None or dep.rollout_state != "IN_PROGRESS":
            # ECS refuses to stop what is not running with a ConflictException.
            raise SchedulerCommandError("ConflictException", f"Service deployment {deployment_id} is not in progress.")
        if dep.stage is not None and len(svc.deployments) > 1:
            self._roll_back_staged(
                svc,
                dep,
                reason="Service deployment stopped: rolling back on request (StopServiceDeployment).",
                cause=f"StopServiceDeployment ROLLBACK to {svc.spec.name}:{svc.deployments[1].revision}",
            )
            self._reconcile(svc)
            return
        target = svc.last_completed
        if target is None:
            raise SchedulerCommandError(
                "InvalidParameterException",
                f"Service deployment {deployment_id} has no previous service revision to roll back to.",
            )
        dep.rollout_state = "FAILED"
        dep.rollout_state_reason = "Service deployment stopped: rolling back on request (StopServiceDeployment)."
        dep.service_deployment_status = "ROLLBACK_IN_PROGRESS"
        dep.rolled_back_to = target.revision
        dep.updated_at = self.now
        self._start_deployment(
            svc,
            target.revision,
            cause=f"StopServiceDeployment ROLLBACK to {svc.spec.name}:{target.revision}",
            reason=f"ECS deployment {deployment_id} stopped: rolling back to {target.deployment_id}.",
        )
        self._reconcile(svc)

    def stop_task(self, task_id: str, reason: str = "Task stopped by user") -> TaskView:
        """StopTask: a person (or the watchdog) stops one task; the scheduler replaces it."""
        owner = self._task_owner.get(task_id)
        if owner is None:
            raise SchedulerCommandError("InvalidParameterException", f"The referenced task was not found: {task_id}")
        svc = self._services[owner]
        task = svc.tasks[task_id]
        if task.last_status != "STOPPED":
            self._stop(svc, task, stop_code="UserInitiated", reason=reason, failure=False)
            self._reconcile(svc)
        view = self.task(task_id)
        assert view is not None
        return view

    # -- the queue ------------------------------------------------------------------------------------

    def _handle(self, kind: QueueKind, service: str, payload: object) -> None:
        svc = self._services[service]
        if kind == "timeline":
            assert isinstance(payload, TimelineEntry)
            self._apply_timeline(svc, payload)
        elif kind == "wake":
            svc.wake_at = None
        elif kind == "stage":
            self._on_stage_timer(svc, payload)
        elif kind == "hook_timeout":
            self._on_hook_timeout(svc, payload)
        elif kind == "hook_callback":
            self._on_hook_callback(svc, payload)
        else:
            task = svc.tasks[str(payload)]
            if task.last_status == "STOPPED":
                return  # the task was stopped before this scheduled change came due
            if kind == "running":
                self._task_running(svc, task)
            elif kind == "healthy":
                self._task_healthy(svc, task)
            elif kind == "fail_start":
                self._task_failed_to_start(svc, task)
            elif kind == "exit":
                self._task_exited(svc, task)
            elif kind == "unhealthy":
                self._task_unhealthy(svc, task)
        self._reconcile(svc)

    def _apply_timeline(self, svc: LiveService, entry: TimelineEntry) -> None:
        action = entry.action
        if isinstance(action, Deploy):
            self._start_deployment(svc, action.revision, cause="deploy")
        elif isinstance(action, Scale):
            svc.desired_count = action.desired_count
            svc.last_change = f"scale: desiredCount {action.desired_count}"
            svc.steady = False
        elif isinstance(action, Break):
            self._break(svc, action)
        elif isinstance(action, StopTasks):
            for task in self._oldest_running(svc, action.tasks):
                self._stop(svc, task, stop_code="UserInitiated", reason=action.reason, failure=False)
        elif isinstance(action, SpotInterruption):
            for task in self._oldest_running(svc, action.tasks):
                self._stop(svc, task, stop_code="SpotInterruption", reason=SPOT_REASON, failure=False)

    @staticmethod
    def _oldest_running(svc: LiveService, count: int) -> list[LiveTask]:
        running = sorted((t for t in svc.live() if t.last_status == "RUNNING"), key=lambda t: t.created_at)
        return running[:count]
