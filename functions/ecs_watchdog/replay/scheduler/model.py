"""The scheduler model's mutable state: services, their deployments and tasks (internal to the package)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from ecs_watchdog.replay.scenario import Behaviour, DeploymentConfig, Revision, ServiceSpec
from ecs_watchdog.replay.scheduler.records import ContainerState, Containment, ServiceMessage

SERVICE_MESSAGES_KEPT = 100  # DescribeServices returns the latest 100 service events
START_JITTER = (0.8, 1.2)  # launch-to-RUNNING and failure timings vary +-20% per task

# Per-task state versions: detail.version counts every state a task passes through.
RUNNING_VERSION = 4  # PROVISIONING 1, PENDING 2, ACTIVATING 3, RUNNING 4
STOPPED_AFTER_RUNNING_VERSION = 8  # DEACTIVATING 5, STOPPING 6, DEPROVISIONING 7, STOPPED 8
STOPPED_BEFORE_RUNNING_VERSION = 4  # PROVISIONING 1, PENDING 2, DEPROVISIONING 3, STOPPED 4

# What the scheduler's queue can hold: a timeline entry, a task's next state, a throttled service waking, a
# stage's timer, a hook's timeout, ECS invoking a Lambda hook again after its callBackDelay.
QueueKind = Literal[
    "timeline",
    "running",
    "healthy",
    "fail_start",
    "exit",
    "unhealthy",
    "wake",
    "stage",
    "hook_timeout",
    "hook_callback",
]


@dataclass
class LiveTask:
    """One task the model launched, live or stopped."""

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
class PendingHook:
    """A lifecycle hook a deployment reached: a PAUSE hook awaits action until answered or timed out; an
    AWS_LAMBDA hook is IN_PROGRESS until its function answers SUCCEEDED or FAILED, or it times out."""

    hook_id: str
    stage: str
    expires_at: float
    timeout_action: str
    status: str = "AWAITING_ACTION"  # then SUCCEEDED, FAILED or TIMED_OUT
    target_type: str = "PAUSE"  # PAUSE | AWS_LAMBDA

    @property
    def pending(self) -> bool:
        return self.status in ("AWAITING_ACTION", "IN_PROGRESS")


@dataclass
class LiveDeployment:
    """One deployment of a service and its live tasks."""

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
    cause: str = ""  # what started it: "deploy" (the timeline), a rollback, UpdateService...
    tasks: dict[str, LiveTask] = field(default_factory=dict)
    stage: str | None = None  # lifecycle stage of a BLUE_GREEN / LINEAR / CANARY deployment; None when ROLLING
    hooks: list[PendingHook] = field(default_factory=list)  # every hook reached, oldest first

    @property
    def awaiting(self) -> PendingHook | None:
        """The PAUSE hook the deployment is paused at, if any (the one ContinueServiceDeployment answers)."""
        return next((h for h in self.hooks if h.status == "AWAITING_ACTION"), None)

    @property
    def held(self) -> PendingHook | None:
        """The hook of either kind the deployment waits for at its stage, if any."""
        return next((h for h in self.hooks if h.pending), None)


@dataclass
class ServiceStats:
    """Ground truth kept for the replay's figures: failed stops and containment."""

    failed_total: int = 0
    first_failure_at: float | None = None
    containment: Containment | None = None
    # When a deployment first set out to launch failing tasks: a rollback after it and before the first
    # failure contains the service with 0 failed tasks (the preflight's case).
    failing_deployment_at: float | None = None


@dataclass
class LiveService:
    """Everything the model knows about one service."""

    spec: ServiceSpec
    config: DeploymentConfig
    desired_count: int
    rng: random.Random
    behaviours: dict[int, Behaviour]
    deployments: list[LiveDeployment] = field(default_factory=list)  # newest (primary) first
    history: list[LiveDeployment] = field(default_factory=list)  # every deployment ever, oldest first
    last_completed: LiveDeployment | None = None
    failed_start_rounds: int = 0
    last_failed_round: int = -1
    launch_round: int = 0
    not_before: float = 0.0
    wake_at: float | None = None
    steady: bool = False
    last_change: str = ""
    messages: list[ServiceMessage] = field(default_factory=list)
    tasks: dict[str, LiveTask] = field(default_factory=dict)  # every task ever, by id
    stats: ServiceStats = field(default_factory=ServiceStats)

    def revision(self, number: int) -> Revision:
        """The scenario's revision with this number."""
        return self.spec.revision(number)

    def live(self) -> list[LiveTask]:
        """Every live task of every deployment, primary first."""
        return [t for d in self.deployments for t in d.tasks.values()]
