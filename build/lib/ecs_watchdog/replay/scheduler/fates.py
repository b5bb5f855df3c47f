"""Task fates: launch tasks, draw whether each fails, and carry it to RUNNING, healthy or STOPPED.

Timings come from the revision's behaviour (jittered +-20% per task from the service's seeded RNG);
`fail_to_start` stops before RUNNING (and feeds the throttle), `crash` / `oom` / `unhealthy` stop after
it; a steady-state `break` changes what the next launches (and, except fail_to_start, live tasks) do.
"""

from __future__ import annotations

from ecs_watchdog.replay.scenario import Behaviour, Break
from ecs_watchdog.replay.scheduler.core import SchedulerCore
from ecs_watchdog.replay.scheduler.model import (
    RUNNING_VERSION,
    STOPPED_AFTER_RUNNING_VERSION,
    STOPPED_BEFORE_RUNNING_VERSION,
    LiveDeployment,
    LiveService,
    LiveTask,
)
from ecs_watchdog.replay.scheduler.records import ContainerState, ServiceActionEvent
from ecs_watchdog.replay.scheduler.throttle import record_failed_launch


class TaskFates(SchedulerCore):
    """The tasks' part of the scheduler."""

    def _make_task(self, svc: LiveService, dep: LiveDeployment, created_at: float) -> LiveTask:
        revision = svc.revision(dep.revision)
        behaviour = svc.behaviours[dep.revision]
        task = LiveTask(
            task_id=f"{svc.rng.getrandbits(128):032x}",
            service=svc.spec.name,
            deployment_id=dep.deployment_id,
            revision=dep.revision,
            behaviour=behaviour,
            failing=self._draw_failing(svc, behaviour),
            launch_round=svc.launch_round,
            created_at=created_at,
            container_ids=tuple(self._uuid(svc) for _ in revision.containers),
        )
        svc.tasks[task.task_id] = task
        self._task_owner[task.task_id] = svc.spec.name
        return task

    @staticmethod
    def _draw_failing(svc: LiveService, behaviour: Behaviour) -> bool:
        if not behaviour.fails:
            return False
        if behaviour.probability >= 1.0:
            return True
        return svc.rng.random() < behaviour.probability

    def _launch(self, svc: LiveService, dep: LiveDeployment, count: int) -> None:
        svc.launch_round += 1
        started: list[str] = []
        for _ in range(count):
            task = self._make_task(svc, dep, created_at=self.now)
            dep.tasks[task.task_id] = task
            started.append(task.task_id)
            b = task.behaviour
            if task.failing and b.kind == "fail_to_start":
                self._push(self.now + self._jitter(svc, b.after_seconds), "fail_start", svc.spec.name, task.task_id)
            else:
                self._push(self.now + self._jitter(svc, b.start_seconds), "running", svc.spec.name, task.task_id)
        tasks = " ".join(f"(task {t})" for t in started)
        self._message(svc, f"(service {svc.spec.name}) has started {count} tasks: {tasks}.")

    def _task_running(self, svc: LiveService, task: LiveTask) -> None:
        task.last_status = "RUNNING"
        task.version = RUNNING_VERSION
        task.started_at = self.now
        svc.failed_start_rounds = 0  # it reached RUNNING: throttling only counts PENDING -> STOPPED
        self._emit_task(svc, task, failure=False)
        self._schedule_fate(svc, task)

    def _schedule_fate(self, svc: LiveService, task: LiveTask) -> None:
        b = task.behaviour
        name = svc.spec.name
        if not task.failing or (b.kind == "oom" and not self._is_essential(svc, task, b.container)):
            self._push(self.now + b.ready_seconds, "healthy", name, task.task_id)
        elif b.kind in ("crash", "oom"):
            self._push(self.now + self._jitter(svc, b.after_seconds), "exit", name, task.task_id)
        elif b.kind == "unhealthy":
            self._push(self.now + self._jitter(svc, b.after_seconds), "unhealthy", name, task.task_id)

    def _is_essential(self, svc: LiveService, task: LiveTask, container: str | None) -> bool:
        revision = svc.revision(task.revision)
        if container is None:
            return True
        return next(c.essential for c in revision.containers if c.name == container)

    def _task_healthy(self, svc: LiveService, task: LiveTask) -> None:
        task.healthy = True
        dep = self._deployment_of(svc, task)
        if dep is not None and svc.config.breaker.reset_on_healthy_task:
            dep.breaker_failures = 0

    def _task_failed_to_start(self, svc: LiveService, task: LiveTask) -> None:
        b = task.behaviour
        containers = self._containers(svc, task, "STOPPED", reasons={c: b.reason for c in self._names(svc, task)})
        self._stop(
            svc,
            task,
            stop_code=b.stop_code or "TaskFailedToStart",
            reason=b.stopped_reason or "Task failed to start",
            failure=True,
            containers=containers,
        )
        if record_failed_launch(svc, task, self.now):
            self._message(svc, f"(service {svc.spec.name}) is unable to consistently start tasks successfully.")
            self._out.append(ServiceActionEvent(self.now, svc.spec.name, "SERVICE_TASK_START_IMPAIRED", "WARN"))

    def _task_exited(self, svc: LiveService, task: LiveTask) -> None:
        b = task.behaviour
        revision = svc.revision(task.revision)
        target = b.container or revision.essential_container.name
        reason: str | None = b.reason
        exit_code = b.exit_code if b.exit_code is not None else 1
        if b.kind == "oom":
            exit_code, reason = 137, "OutOfMemoryError: Container killed due to memory usage"
        containers = self._containers(svc, task, "STOPPED", exits={target: exit_code}, reasons={target: reason})
        self._stop(
            svc,
            task,
            stop_code=b.stop_code or "EssentialContainerExited",
            reason=b.stopped_reason or "Essential container in task exited",
            failure=True,
            containers=containers,
        )

    def _task_unhealthy(self, svc: LiveService, task: LiveTask) -> None:
        b = task.behaviour
        revision = svc.revision(task.revision)
        if b.stopped_reason:
            reason = b.stopped_reason
        elif b.check == "elb":
            target_group = self.target_group_arn(revision.target_group)
            reason = f"Task failed ELB health checks in (target-group {target_group})"
        else:
            reason = "Task failed container health checks"
        exits = {c: b.exit_code for c in self._names(svc, task)} if b.exit_code is not None else {}
        self._stop(
            svc,
            task,
            stop_code=b.stop_code or "ServiceSchedulerInitiated",
            reason=reason,
            failure=True,
            containers=self._containers(svc, task, "STOPPED", exits=exits),
        )

    def _stop(
        self,
        svc: LiveService,
        task: LiveTask,
        *,
        stop_code: str,
        reason: str,
        failure: bool,
        containers: tuple[ContainerState, ...] | None = None,
    ) -> None:
        reached_running = task.started_at is not None
        task.last_status = "STOPPED"
        task.healthy = False
        task.version = STOPPED_AFTER_RUNNING_VERSION if reached_running else STOPPED_BEFORE_RUNNING_VERSION
        task.stopped_at = self.now
        task.stop_code = stop_code
        task.stopped_reason = reason
        task.containers = containers or self._containers(svc, task, "STOPPED")
        dep = self._deployment_of(svc, task)
        if dep is not None:
            dep.tasks.pop(task.task_id, None)
        svc.steady = False
        self._emit_task(svc, task, failure=failure)
        if failure:
            stats = svc.stats
            stats.failed_total += 1
            if stats.first_failure_at is None:
                stats.first_failure_at = self.now
            if dep is not None:
                dep.failed_tasks += 1
                dep.updated_at = self.now
                self._count_breaker_failure(svc, dep)

    def _break(self, svc: LiveService, action: Break) -> None:
        number = action.revision
        if number is None:
            number = svc.deployments[0].revision if svc.deployments else svc.spec.revisions[0].revision
        svc.behaviours[number] = action.behaviour
        svc.last_change = f"break: {svc.spec.name}:{number} now {action.behaviour.kind}"
        if action.behaviour.kind == "fail_to_start":
            return  # a rotated secret or a deleted image only hurts the next launch
        for task in svc.live():
            if task.revision != number:
                continue
            task.behaviour = action.behaviour
            task.failing = self._draw_failing(svc, action.behaviour)
            if task.last_status == "RUNNING" and task.failing:
                self._schedule_fate(svc, task)
