"""A pure model of the ECS service scheduler, driven by a virtual clock.

It keeps, per service: the desired count, the deployments (a new one whenever the task definition
changes or a deployment is forced), rolling updates within minimumHealthyPercent/maximumPercent, old
tasks drained as new ones turn healthy, replacement launches slowed by ECS's service throttle logic, and
the deployment circuit breaker with its threshold configuration and rollback. It emits typed simulation
events; `envelopes.py` turns them into the EventBridge shapes AWS sends. No boto3 and no wall clock here:
time is the float `now`, in seconds from the scenario's start, and every random choice comes from
RNGs seeded by the scenario seed and the service name (so one service's fate never shifts another's).

Modelling choices (each one documented in docs/replay.md):
- Service throttle logic. AWS documents that when a service's tasks repeatedly fail to reach RUNNING
  (PENDING straight to STOPPED) the time between restart attempts grows "up to a maximum of 27
  minutes", that tasks stopped after RUNNING (crashes, failed health checks) are never throttled, that
  the service event "(service NAME) is unable to consistently start tasks successfully." is sent, and
  that a new task definition returns the service to normal at once. The growth curve is not
  documented; we use: the first failed launch round is retried at once, then 30 s, doubling per
  consecutive failed round, capped at 27 min (30, 60, 120, 240, 480, 960, 1620 s). A task reaching
  RUNNING resets the count. This lands seed 002 on ~53 failed tasks in the ~21 h the report covers.
- Circuit breaker threshold: BOUNDED_PERCENT (default, value 50) = clamp(ceil(value% x desired), 3, 200);
  UNBOUNDED_PERCENT = max(1, ceil(value% x desired)); COUNT = value. One failure counter per deployment
  covers both of ECS's stages (never RUNNING, and stopped after RUNNING); resetOnHealthyTask (default
  true) zeroes it when one of the deployment's tasks turns healthy. Only the primary deployment, while
  IN_PROGRESS, is monitored: a steady-state break is invisible to the breaker, as in ECS.
- On a trip the deployment is FAILED; with rollback on, a new deployment of the most recent COMPLETED
  deployment's revision starts; without rollback, or with nothing COMPLETED (a brand-new service), the
  deployment stalls and launches nothing more (ECS: "the circuit breaker does not launch new tasks and
  the deployment is stalled").
- Rolling update: new tasks are launched while the service's live tasks stay within
  floor(desired x maximumPercent); old tasks are stopped to make room only while the healthy tasks stay
  at or above ceil(desired x minimumHealthyPercent); old deployments shrink to desired - healthy new.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from ecs_watchdog.replay.scenario import (
    Behaviour,
    Break,
    BreakerConfig,
    Deploy,
    DeploymentConfig,
    Revision,
    Scale,
    Scenario,
    ServiceSpec,
    SpotInterruption,
    StopTasks,
    TimelineEntry,
)

THROTTLE_FIRST_DELAY_SECONDS = 30.0
THROTTLE_MAX_DELAY_SECONDS = 27 * 60.0
BREAKER_MIN_THRESHOLD = 3
BREAKER_MAX_THRESHOLD = 200
SERVICE_MESSAGES_KEPT = 100  # DescribeServices returns the latest 100 service events

START_JITTER = (0.8, 1.2)  # launch-to-RUNNING and failure timings vary +-20% per task

# Per-task state versions: detail.version counts every state a task passes through.
_RUNNING_VERSION = 4  # PROVISIONING 1, PENDING 2, ACTIVATING 3, RUNNING 4
_STOPPED_AFTER_RUNNING_VERSION = 8  # DEACTIVATING 5, STOPPING 6, DEPROVISIONING 7, STOPPED 8
_STOPPED_BEFORE_RUNNING_VERSION = 4  # PROVISIONING 1, PENDING 2, DEPROVISIONING 3, STOPPED 4

SPOT_REASON = "Your Spot Task was interrupted."


def throttle_delay(consecutive_failed_rounds: int) -> float:
    """Seconds ECS waits before the next launch after this many consecutive failed launch rounds."""
    if consecutive_failed_rounds <= 1:
        return 0.0
    return min(THROTTLE_MAX_DELAY_SECONDS, THROTTLE_FIRST_DELAY_SECONDS * 2 ** (consecutive_failed_rounds - 2))


def breaker_threshold(config: BreakerConfig, desired_count: int) -> int:
    """Failures of one deployment that trip the circuit breaker (thresholdConfiguration semantics)."""
    if config.threshold_type == "COUNT":
        return config.threshold_value
    raw = math.ceil(config.threshold_value * desired_count / 100)
    if config.threshold_type == "UNBOUNDED_PERCENT":
        return max(1, raw)
    return min(BREAKER_MAX_THRESHOLD, max(BREAKER_MIN_THRESHOLD, raw))


# ---------------------------------------------------------------------------------------------------
# Simulation events: what the model says happened. Times are seconds from the scenario start.


@dataclass(frozen=True)
class ContainerState:
    """One container of a task at the moment of a task event."""

    name: str
    container_id: str
    image: str
    last_status: str
    exit_code: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TaskEvent:
    """A task reached RUNNING or STOPPED (`ECS Task State Change`)."""

    at: float
    service: str
    task_id: str
    revision: int
    deployment_id: str
    last_status: str
    version: int
    created_at: float
    started_at: float | None
    stopped_at: float | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[ContainerState, ...]
    failure: bool
    launch_type: str
    capacity_provider: str | None


@dataclass(frozen=True)
class DeploymentEvent:
    """A deployment changed state (`ECS Deployment State Change`)."""

    at: float
    service: str
    deployment_id: str
    event_name: str  # SERVICE_DEPLOYMENT_IN_PROGRESS | _COMPLETED | _FAILED
    event_type: str  # INFO | ERROR
    reason: str


@dataclass(frozen=True)
class ServiceActionEvent:
    """A service-level event (`ECS Service Action`)."""

    at: float
    service: str
    event_name: str  # SERVICE_STEADY_STATE | SERVICE_TASK_START_IMPAIRED
    event_type: str  # INFO | WARN


SimEvent = TaskEvent | DeploymentEvent | ServiceActionEvent


# ---------------------------------------------------------------------------------------------------
# Read-only views for the moto mirror and the runner.


@dataclass(frozen=True)
class DeploymentView:
    """One deployment as DescribeServices / DescribeServiceDeployments would show it."""

    deployment_id: str
    revision: int
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str  # IN_PROGRESS | COMPLETED | FAILED
    rollout_state_reason: str
    service_deployment_status: str  # ListServiceDeployments' status
    desired_count: int
    running_count: int
    pending_count: int
    healthy_count: int
    failed_tasks: int
    breaker_failures: int
    breaker_threshold: int
    created_at: float
    updated_at: float
    finished_at: float | None
    source_revisions: tuple[int, ...]
    rolled_back_to: int | None


@dataclass(frozen=True)
class TaskView:
    """One task, live or stopped, as DescribeTasks would show it."""

    task_id: str
    service: str
    revision: int
    deployment_id: str
    last_status: str
    desired_status: str
    healthy: bool
    version: int
    created_at: float
    started_at: float | None
    stopped_at: float | None
    stop_code: str | None
    stopped_reason: str | None
    containers: tuple[ContainerState, ...]


@dataclass(frozen=True)
class ServiceMessage:
    """A service event message (DescribeServices `events`)."""

    message_id: str
    at: float
    message: str


@dataclass(frozen=True)
class ServiceView:
    """The state of one service now."""

    name: str
    desired_count: int
    running_count: int
    pending_count: int
    healthy_count: int
    primary_revision: int | None
    config: DeploymentConfig
    deployments: tuple[DeploymentView, ...]
    messages: tuple[ServiceMessage, ...]


@dataclass(frozen=True)
class Containment:
    """When and how a service stopped launching failing tasks."""

    at: float
    by: str
    failed_before: int


# ---------------------------------------------------------------------------------------------------
# Mutable model state (private to this module).


@dataclass
class _Task:
    task_id: str
    service: str
    deployment_id: str
    revision: int
    behaviour: Behaviour
    failing: bool
    launch_round: int
    created_at: float
    container_ids: tuple[str, ...]
    last_status: str = "PENDING"
    healthy: bool = False
    version: int = 2
    started_at: float | None = None
    stopped_at: float | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: tuple[ContainerState, ...] = ()


@dataclass
class _Deployment:
    deployment_id: str
    revision: int
    created_at: float
    updated_at: float
    source_revisions: tuple[int, ...]
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    service_deployment_status: str = "IN_PROGRESS"
    failed_tasks: int = 0
    breaker_failures: int = 0
    stalled: bool = False
    finished_at: float | None = None
    rolled_back_to: int | None = None
    tasks: dict[str, _Task] = field(default_factory=dict)


@dataclass
class _Stats:
    failed_total: int = 0
    first_failure_at: float | None = None
    containment: Containment | None = None


@dataclass
class _Service:
    spec: ServiceSpec
    config: DeploymentConfig
    desired_count: int
    rng: random.Random
    behaviours: dict[int, Behaviour]
    deployments: list[_Deployment] = field(default_factory=list)  # newest (primary) first
    history: list[_Deployment] = field(default_factory=list)  # every deployment ever, oldest first
    last_completed: _Deployment | None = None
    failed_start_rounds: int = 0
    last_failed_round: int = -1
    launch_round: int = 0
    not_before: float = 0.0
    wake_at: float | None = None
    steady: bool = False
    last_change: str = ""
    messages: list[ServiceMessage] = field(default_factory=list)
    tasks: dict[str, _Task] = field(default_factory=dict)  # every task ever, by id
    stats: _Stats = field(default_factory=_Stats)

    def revision(self, number: int) -> Revision:
        return self.spec.revision(number)

    def live(self) -> list[_Task]:
        return [t for d in self.deployments for t in d.tasks.values()]


class SchedulerCommandError(ValueError):
    """A command the real ECS API would refuse; `code` is the ECS error code to return."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_QueueKind = Literal["timeline", "running", "healthy", "fail_start", "exit", "unhealthy", "wake"]


class Scheduler:
    """The ECS service scheduler for every service of one scenario, on a virtual clock."""

    def __init__(self, scenario: Scenario, configs: Mapping[str, DeploymentConfig] | None = None) -> None:
        """Build the model at minute 0. `configs` overrides services' deployment configurations (policies)."""
        self.scenario = scenario
        self.now = 0.0
        self.horizon = scenario.horizon_minutes * 60.0
        self._queue: list[tuple[float, int, _QueueKind, str, object]] = []
        self._seq = 0
        self._out: list[SimEvent] = []
        self._services: dict[str, _Service] = {}
        self._task_owner: dict[str, str] = {}
        for spec in scenario.services:
            config = (configs or {}).get(spec.name, spec.deployment)
            svc = _Service(
                spec=spec,
                config=config,
                desired_count=spec.desired_count,
                rng=random.Random(f"{scenario.seed}/{spec.name}"),
                behaviours={r.revision: r.behaviour for r in spec.revisions},
            )
            self._services[spec.name] = svc
            if spec.running_revision is not None:
                self._seed_steady_service(svc, spec.running_revision)
        for entry in scenario.timeline:
            self._push(entry.at_minute * 60.0, "timeline", entry.action.service, entry)

    # -- driving the clock ---------------------------------------------------------------------------

    def next_time(self) -> float | None:
        """Time of the next scheduled happening within the horizon, or None when the run is over."""
        if not self._queue or self._queue[0][0] > self.horizon:
            return None
        return self._queue[0][0]

    def step(self) -> list[SimEvent]:
        """Process everything scheduled at the next time; return the events emitted (and buffered ones)."""
        at = self.next_time()
        if at is None:
            return self.drain()
        self.now = at
        while self._queue and self._queue[0][0] == at:
            _, _, kind, service, payload = heapq.heappop(self._queue)
            self._handle(kind, service, payload)
        return self.drain()

    def advance_clock(self, at: float) -> None:
        """Move the clock to `at` with nothing happening (e.g. while a batch of events is delivered)."""
        upcoming = self._queue[0][0] if self._queue else None
        if at < self.now or (upcoming is not None and at > upcoming):
            raise ValueError(f"cannot advance the clock to {at}: now {self.now}, next happening {upcoming}")
        self.now = at

    def drain(self) -> list[SimEvent]:
        """Events emitted since the last call (commands emit events too)."""
        out, self._out = self._out, []
        return out

    def run(self) -> list[SimEvent]:
        """Run to the horizon with no one intervening; return every event."""
        events: list[SimEvent] = []
        while self.next_time() is not None:
            events.extend(self.step())
        return events

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
            raise SchedulerCommandError(
                "InvalidParameterException", f"Service deployment {deployment_id} is not in progress."
            )
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

    # -- internals: queue -------------------------------------------------------------------------------

    def _push(self, at: float, kind: _QueueKind, service: str, payload: object) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, kind, service, payload))

    def _handle(self, kind: _QueueKind, service: str, payload: object) -> None:
        svc = self._services[service]
        if kind == "timeline":
            assert isinstance(payload, TimelineEntry)
            self._apply_timeline(svc, payload)
        elif kind == "wake":
            svc.wake_at = None
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

    def _apply_timeline(self, svc: _Service, entry: TimelineEntry) -> None:
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
    def _oldest_running(svc: _Service, count: int) -> list[_Task]:
        running = sorted((t for t in svc.live() if t.last_status == "RUNNING"), key=lambda t: t.created_at)
        return running[:count]

    # -- internals: deployments ---------------------------------------------------------------------------

    def _new_deployment_id(self, svc: _Service) -> str:
        return f"ecs-svc/{svc.rng.randrange(10**18, 10**19)}"

    def _seed_steady_service(self, svc: _Service, revision: int) -> None:
        """A service already serving `revision` at minute 0: one COMPLETED deployment, healthy tasks."""
        dep = _Deployment(
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
            task.version = _RUNNING_VERSION
            task.started_at = -3570.0
            task.healthy = True
            task.failing = False  # it has been serving for an hour: whatever breaks later, breaks it anew
            dep.tasks[task.task_id] = task

    def _start_deployment(self, svc: _Service, revision: int, *, cause: str, reason: str | None = None) -> None:
        previous = svc.deployments[0] if svc.deployments else None
        if previous is None or previous.revision != revision:
            # A new task definition returns the service to normal, non-throttled launching at once.
            svc.failed_start_rounds = 0
            svc.not_before = 0.0
        dep = _Deployment(
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

    def _complete(self, svc: _Service, dep: _Deployment) -> None:
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

    def _trip_breaker(self, svc: _Service, dep: _Deployment) -> None:
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

    # -- internals: tasks -------------------------------------------------------------------------------

    def _make_task(self, svc: _Service, dep: _Deployment, created_at: float) -> _Task:
        revision = svc.revision(dep.revision)
        behaviour = svc.behaviours[dep.revision]
        task = _Task(
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
    def _draw_failing(svc: _Service, behaviour: Behaviour) -> bool:
        if not behaviour.fails:
            return False
        if behaviour.probability >= 1.0:
            return True
        return svc.rng.random() < behaviour.probability

    @staticmethod
    def _uuid(svc: _Service) -> str:
        h = f"{svc.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _jitter(self, svc: _Service, seconds: float) -> float:
        return seconds * svc.rng.uniform(*START_JITTER)

    def _launch(self, svc: _Service, dep: _Deployment, count: int) -> None:
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

    def _task_running(self, svc: _Service, task: _Task) -> None:
        task.last_status = "RUNNING"
        task.version = _RUNNING_VERSION
        task.started_at = self.now
        svc.failed_start_rounds = 0  # it reached RUNNING: throttling only counts PENDING -> STOPPED
        self._emit_task(svc, task, failure=False)
        self._schedule_fate(svc, task)

    def _schedule_fate(self, svc: _Service, task: _Task) -> None:
        b = task.behaviour
        name = svc.spec.name
        if not task.failing or (b.kind == "oom" and not self._is_essential(svc, task, b.container)):
            self._push(self.now + b.ready_seconds, "healthy", name, task.task_id)
        elif b.kind in ("crash", "oom"):
            self._push(self.now + self._jitter(svc, b.after_seconds), "exit", name, task.task_id)
        elif b.kind == "unhealthy":
            self._push(self.now + self._jitter(svc, b.after_seconds), "unhealthy", name, task.task_id)

    def _is_essential(self, svc: _Service, task: _Task, container: str | None) -> bool:
        revision = svc.revision(task.revision)
        if container is None:
            return True
        return next(c.essential for c in revision.containers if c.name == container)

    def _task_healthy(self, svc: _Service, task: _Task) -> None:
        task.healthy = True
        dep = self._deployment_of(svc, task)
        if dep is not None and svc.config.breaker.reset_on_healthy_task:
            dep.breaker_failures = 0

    def _task_failed_to_start(self, svc: _Service, task: _Task) -> None:
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
        if task.launch_round > svc.last_failed_round:
            # One launch round counts once, however many of its tasks fail.
            svc.last_failed_round = task.launch_round
            svc.failed_start_rounds += 1
            delay = throttle_delay(svc.failed_start_rounds)
            if delay > 0:
                svc.not_before = self.now + delay
                self._message(svc, f"(service {svc.spec.name}) is unable to consistently start tasks successfully.")
                self._out.append(ServiceActionEvent(self.now, svc.spec.name, "SERVICE_TASK_START_IMPAIRED", "WARN"))

    def _task_exited(self, svc: _Service, task: _Task) -> None:
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

    def _task_unhealthy(self, svc: _Service, task: _Task) -> None:
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

    def target_group_arn(self, name: str) -> str:
        """The deterministic ARN of a target group (the moto mirror gives its copy the same ARN)."""
        digest = random.Random(f"{self.scenario.seed}/tg/{name}").getrandbits(64)
        region = self.scenario.region
        return f"arn:aws:elasticloadbalancing:{region}:123456789012:targetgroup/{name}/{digest:016x}"

    @staticmethod
    def _names(svc: _Service, task: _Task) -> list[str]:
        return [c.name for c in svc.revision(task.revision).containers]

    def _containers(
        self,
        svc: _Service,
        task: _Task,
        status: str,
        exits: Mapping[str, int | None] | None = None,
        reasons: Mapping[str, str | None] | None = None,
    ) -> tuple[ContainerState, ...]:
        revision = svc.revision(task.revision)
        return tuple(
            ContainerState(
                name=c.name,
                container_id=cid,
                image=revision.image,
                last_status=status,
                exit_code=(exits or {}).get(c.name),
                reason=(reasons or {}).get(c.name),
            )
            for c, cid in zip(revision.containers, task.container_ids, strict=True)
        )

    def _deployment_of(self, svc: _Service, task: _Task) -> _Deployment | None:
        return next((d for d in svc.deployments if d.deployment_id == task.deployment_id), None)

    def _stop(
        self,
        svc: _Service,
        task: _Task,
        *,
        stop_code: str,
        reason: str,
        failure: bool,
        containers: tuple[ContainerState, ...] | None = None,
    ) -> None:
        reached_running = task.started_at is not None
        task.last_status = "STOPPED"
        task.healthy = False
        task.version = _STOPPED_AFTER_RUNNING_VERSION if reached_running else _STOPPED_BEFORE_RUNNING_VERSION
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

    def _count_breaker_failure(self, svc: _Service, dep: _Deployment) -> None:
        breaker = svc.config.breaker
        if not breaker.enable or dep is not svc.deployments[0] or dep.rollout_state != "IN_PROGRESS":
            return
        dep.breaker_failures += 1
        if dep.breaker_failures >= breaker_threshold(breaker, svc.desired_count):
            self._trip_breaker(svc, dep)

    def _break(self, svc: _Service, action: Break) -> None:
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

    # -- internals: the scheduler loop ---------------------------------------------------------------

    def _reconcile(self, svc: _Service) -> None:
        if not svc.deployments:
            return  # a brand-new service before its first deployment
        primary = svc.deployments[0]
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
        if len(primary.tasks) > desired:
            extra = sorted(primary.tasks.values(), key=lambda t: (t.healthy, -t.created_at))
            for task in extra[: len(primary.tasks) - desired]:
                self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=drain_reason, failure=False)
        want = desired - len(primary.tasks)
        if want > 0 and not primary.stalled:
            if self.now < svc.not_before:
                if svc.wake_at != svc.not_before:
                    svc.wake_at = svc.not_before
                    self._push(svc.not_before, "wake", svc.spec.name, None)
            else:
                old_tasks = self._old_tasks_in_stop_order(svc)
                room = upper - len(primary.tasks) - len(old_tasks)
                healthy_total = sum(1 for t in primary.tasks.values() if t.healthy) + sum(
                    1 for t in old_tasks if t.healthy
                )
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
        self._check_containment(svc)

    @staticmethod
    def _old_tasks_in_stop_order(svc: _Service) -> list[_Task]:
        # Unhealthy and pending tasks go first, then the oldest deployments' tasks.
        old = [t for d in reversed(svc.deployments[1:]) for t in d.tasks.values()]
        return sorted(old, key=lambda t: t.healthy)

    def _launching_failing_tasks(self, svc: _Service) -> bool:
        if not svc.deployments or svc.desired_count == 0:
            return False
        primary = svc.deployments[0]
        return not primary.stalled and svc.behaviours[primary.revision].fails

    def _check_containment(self, svc: _Service) -> None:
        stats = svc.stats
        if stats.first_failure_at is None or stats.containment is not None:
            return
        if not self._launching_failing_tasks(svc):
            stats.containment = Containment(at=self.now, by=svc.last_change, failed_before=stats.failed_total)

    # -- internals: output ------------------------------------------------------------------------------

    def _emit_task(self, svc: _Service, task: _Task, failure: bool) -> None:
        self._out.append(
            TaskEvent(
                at=self.now,
                service=svc.spec.name,
                task_id=task.task_id,
                revision=task.revision,
                deployment_id=task.deployment_id,
                last_status=task.last_status,
                version=task.version,
                created_at=task.created_at,
                started_at=task.started_at,
                stopped_at=task.stopped_at,
                stop_code=task.stop_code,
                stopped_reason=task.stopped_reason,
                containers=task.containers or self._containers(svc, task, task.last_status),
                failure=failure,
                launch_type=svc.spec.launch_type,
                capacity_provider=svc.spec.capacity_provider,
            )
        )
        if task.last_status == "STOPPED" and task.started_at is not None:
            self._message(svc, f"(service {svc.spec.name}) has stopped 1 running tasks: (task {task.task_id}).")

    def _emit_deployment(self, svc: _Service, dep: _Deployment, name: str, kind: str, reason: str) -> None:
        self._out.append(DeploymentEvent(self.now, svc.spec.name, dep.deployment_id, name, kind, reason))

    def _message(self, svc: _Service, text: str) -> None:
        svc.messages.append(ServiceMessage(message_id=self._uuid(svc), at=self.now, message=text))
        if len(svc.messages) > SERVICE_MESSAGES_KEPT:
            del svc.messages[0]

    def _deployment_view(self, svc: _Service, dep: _Deployment) -> DeploymentView:
        is_primary = bool(svc.deployments) and dep is svc.deployments[0]
        return DeploymentView(
            deployment_id=dep.deployment_id,
            revision=dep.revision,
            status=dep.status,
            rollout_state=dep.rollout_state,
            rollout_state_reason=dep.rollout_state_reason,
            service_deployment_status=dep.service_deployment_status,
            desired_count=svc.desired_count if is_primary else len(dep.tasks),
            running_count=sum(1 for t in dep.tasks.values() if t.last_status == "RUNNING"),
            pending_count=sum(1 for t in dep.tasks.values() if t.last_status != "RUNNING"),
            healthy_count=sum(1 for t in dep.tasks.values() if t.healthy),
            failed_tasks=dep.failed_tasks,
            breaker_failures=dep.breaker_failures,
            breaker_threshold=breaker_threshold(svc.config.breaker, svc.desired_count),
            created_at=dep.created_at,
            updated_at=dep.updated_at,
            finished_at=dep.finished_at,
            source_revisions=dep.source_revisions,
            rolled_back_to=dep.rolled_back_to,
        )


def policy_configs(scenario: Scenario, policy: str) -> dict[str, DeploymentConfig]:
    """Each service's deployment configuration under a policy.

    `none` forces the breaker off (what most seeds had), `circuit-breaker` forces it on with rollback
    (keeping any threshold tuning the scenario gives), the watchdog policies keep the scenario's own.
    """
    configs: dict[str, DeploymentConfig] = {}
    for spec in scenario.services:
        breaker = spec.deployment.breaker
        if policy == "none":
            breaker = replace(breaker, enable=False, rollback=False)
        elif policy == "circuit-breaker":
            breaker = replace(breaker, enable=True, rollback=True)
        configs[spec.name] = replace(spec.deployment, breaker=breaker)
    return configs


def failure_stops(events: Iterable[SimEvent]) -> list[TaskEvent]:
    """The failed (non-benign) task stops among `events`."""
    return [e for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED" and e.failure]
