"""What the scheduler model tells the outside: simulation events, read-only views, refused commands.

Times are seconds from the scenario's start. `envelopes.py` turns the events into EventBridge envelopes;
the moto mirror and the runner read the views.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecs_watchdog.replay.scenario import DeploymentConfig

# ---------------------------------------------------------------------------------------------------
# Simulation events: what the model says happened.


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


@dataclass(frozen=True)
class HookEvent:
    """A deployment paused at a PAUSE lifecycle hook (`ECS Hook State Change`, HOOK_AWAITING_ACTION)."""

    at: float
    service: str
    deployment_id: str
    hook_id: str
    stage: str
    expires_at: float
    hook_type: str = "PAUSE"
    event_name: str = "HOOK_AWAITING_ACTION"


SimEvent = TaskEvent | DeploymentEvent | ServiceActionEvent | HookEvent


@dataclass(frozen=True)
class LambdaHookInvocation:
    """ECS invoking an AWS_LAMBDA lifecycle hook's function (no EventBridge event: a synchronous call whose
    return value the scheduler takes with `answer_lambda_hook`). `hook_details`: what the previous invocation
    returned with IN_PROGRESS."""

    at: float
    service: str
    deployment_id: str
    hook_id: str
    stage: str
    revision: int
    source_revision: int | None
    hook_details: tuple[tuple[str, object], ...] = ()


# ---------------------------------------------------------------------------------------------------
# Read-only views for the moto mirror and the runner.


@dataclass(frozen=True)
class HookView:
    """One lifecycle hook a deployment reached (DescribeServiceDeployments `lifecycleHookDetails`)."""

    hook_id: str
    stage: str
    status: str  # AWAITING_ACTION (PAUSE) | IN_PROGRESS (AWS_LAMBDA) | SUCCEEDED | FAILED | TIMED_OUT
    expires_at: float
    timeout_action: str
    target_type: str = "PAUSE"  # PAUSE | AWS_LAMBDA


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
    lifecycle_stage: str | None = None
    hooks: tuple[HookView, ...] = ()


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


class SchedulerCommandError(ValueError):
    """A command the real ECS API would refuse; `code` is the ECS error code to return."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
