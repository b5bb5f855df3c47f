"""The scheduler's core: the virtual clock, the event queue, the services' state and the model's output.

The scheduler is one object assembled from one class per idea (task fates, the rolling update, the
circuit breaker, deployments, lifecycle stages); this base holds what they all share and names the steps
one idea asks of another, so each module reads on its own.
"""

from __future__ import annotations

import heapq
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping

from ecs_watchdog.replay.scenario import DeploymentConfig, Scenario
from ecs_watchdog.replay.scheduler.model import (
    SERVICE_MESSAGES_KEPT,
    START_JITTER,
    LiveDeployment,
    LiveService,
    LiveTask,
    QueueKind,
)
from ecs_watchdog.replay.scheduler.records import (
    ContainerState,
    DeploymentEvent,
    DeploymentView,
    HookView,
    LambdaHookInvocation,
    ServiceMessage,
    SimEvent,
    TaskEvent,
)
from ecs_watchdog.replay.scheduler.threshold import breaker_threshold


class SchedulerCore(ABC):
    """State, clock and output shared by every part of the scheduler."""

    def __init__(self, scenario: Scenario, configs: Mapping[str, DeploymentConfig] | None = None) -> None:
        """Build the model at minute 0. `configs` overrides services' deployment configurations (policies)."""
        self.scenario = scenario
        self.now = 0.0
        self.horizon = scenario.horizon_minutes * 60.0
        self._queue: list[tuple[float, int, QueueKind, str, object]] = []
        self._seq = 0
        self._out: list[SimEvent] = []
        self._invocations: list[LambdaHookInvocation] = []  # Lambda hooks ECS invoked, not yet answered
        self._services: dict[str, LiveService] = {}
        self._task_owner: dict[str, str] = {}
        for spec in scenario.services:
            config = (configs or {}).get(spec.name, spec.deployment)
            svc = LiveService(
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

    def drain_invocations(self) -> list[LambdaHookInvocation]:
        """Lambda hook invocations made since the last call: each waits for `answer_lambda_hook`."""
        out, self._invocations = self._invocations, []
        return out

    def run(self) -> list[SimEvent]:
        """Run to the horizon with no one intervening; return every event. Lambda hooks answer SUCCEEDED,
        as if they were not there (without a watchdog there is no hook function)."""
        events: list[SimEvent] = []
        while self.next_time() is not None:
            events.extend(self.step())
            for invocation in self.drain_invocations():
                self.answer_lambda_hook(invocation, {"hookStatus": "SUCCEEDED"})
                events.extend(self.drain())
        return events

    @abstractmethod
    def answer_lambda_hook(self, invocation: LambdaHookInvocation, answer: object) -> str:
        """Take a Lambda hook function's return value; say what became of it."""

    def _push(self, at: float, kind: QueueKind, service: str, payload: object) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, kind, service, payload))

    # -- steps one part of the scheduler asks of another -----------------------------------------------

    @abstractmethod
    def _handle(self, kind: QueueKind, service: str, payload: object) -> None:
        """Carry out one queued happening."""

    @abstractmethod
    def _seed_steady_service(self, svc: LiveService, revision: int) -> None:
        """Give a service that already runs at minute 0 its completed deployment and healthy tasks."""

    @abstractmethod
    def _reconcile(self, svc: LiveService) -> None:
        """Bring the service's tasks towards what its deployments want."""

    @abstractmethod
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
        """Stop one task and count it."""

    def _trim_primary(self, svc: LiveService, primary: LiveDeployment, desired: int, reason: str) -> None:
        """Stop the primary deployment's tasks above `desired`: unhealthy ones first, then the newest."""
        extra = sorted(primary.tasks.values(), key=lambda t: (t.healthy, -t.created_at))
        for task in extra[: max(0, len(primary.tasks) - desired)]:
            self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=reason, failure=False)

    def _waiting_for_throttle(self, svc: LiveService) -> bool:
        """Whether the service's launches must wait for its start throttle; schedules the wake-up once."""
        if self.now >= svc.not_before:
            return False
        if svc.wake_at != svc.not_before:
            svc.wake_at = svc.not_before
            self._push(svc.not_before, "wake", svc.spec.name, None)
        return True

    @abstractmethod
    def _make_task(self, svc: LiveService, dep: LiveDeployment, created_at: float) -> LiveTask:
        """A new task of a deployment, with its fate drawn (not yet scheduled)."""

    @abstractmethod
    def _launch(self, svc: LiveService, dep: LiveDeployment, count: int) -> None:
        """Launch `count` tasks of a deployment."""

    @abstractmethod
    def _start_deployment(self, svc: LiveService, revision: int, *, cause: str, reason: str | None = None) -> None:
        """Make a new primary deployment of `revision`."""

    @abstractmethod
    def _complete(self, svc: LiveService, dep: LiveDeployment) -> None:
        """Mark the primary deployment COMPLETED and retire the older ones."""

    @abstractmethod
    def _begin_stages(self, svc: LiveService, dep: LiveDeployment) -> None:
        """Start a BLUE_GREEN / LINEAR / CANARY deployment at its first lifecycle stage."""

    @abstractmethod
    def _reconcile_staged(self, svc: LiveService) -> None:
        """Reconcile a service whose primary deployment is walking lifecycle stages."""

    @abstractmethod
    def _roll_back_staged(self, svc: LiveService, dep: LiveDeployment, *, reason: str, cause: str) -> None:
        """Roll a staged deployment back to the deployment still serving beside it."""

    @abstractmethod
    def _count_breaker_failure(self, svc: LiveService, dep: LiveDeployment) -> None:
        """Let the circuit breaker see one failed task of a deployment."""

    # -- output -----------------------------------------------------------------------------------------

    def _emit_task(self, svc: LiveService, task: LiveTask, failure: bool) -> None:
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

    def _emit_deployment(self, svc: LiveService, dep: LiveDeployment, name: str, kind: str, reason: str) -> None:
        self._out.append(DeploymentEvent(self.now, svc.spec.name, dep.deployment_id, name, kind, reason))

    def _message(self, svc: LiveService, text: str) -> None:
        svc.messages.append(ServiceMessage(message_id=self._uuid(svc), at=self.now, message=text))
        if len(svc.messages) > SERVICE_MESSAGES_KEPT:
            del svc.messages[0]

    def _deployment_view(self, svc: LiveService, dep: LiveDeployment) -> DeploymentView:
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
            lifecycle_stage=dep.stage,
            hooks=tuple(
                HookView(h.hook_id, h.stage, h.status, h.expires_at, h.timeout_action, h.target_type) for h in dep.hooks
            ),
        )

    @staticmethod
    def _uuid(svc: LiveService) -> str:
        h = f"{svc.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def _jitter(self, svc: LiveService, seconds: float) -> float:
        return seconds * svc.rng.uniform(*START_JITTER)

    def target_group_arn(self, name: str) -> str:
        """The deterministic ARN of a target group (the moto mirror gives its copy the same ARN)."""
        digest = random.Random(f"{self.scenario.seed}/tg/{name}").getrandbits(64)
        region = self.scenario.region
        return f"arn:aws:elasticloadbalancing:{region}:123456789012:targetgroup/{name}/{digest:016x}"

    @staticmethod
    def _names(svc: LiveService, task: LiveTask) -> list[str]:
        return [c.name for c in svc.revision(task.revision).containers]

    def _containers(
        self,
        svc: LiveService,
        task: LiveTask,
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

    def _deployment_of(self, svc: LiveService, task: LiveTask) -> LiveDeployment | None:
        return next((d for d in svc.deployments if d.deployment_id == task.deployment_id), None)
