"""A pure model of the ECS service scheduler, driven by a virtual clock (see docs/replay.md).

One module per idea: `records` (events and views the model emits), `model` (its mutable state),
`core` (clock, queue, output), `fates` (tasks), `throttle`, `threshold` + `breaker` (the circuit
breaker), `deployments`, `rolling` (the rolling update), `statistics` (failed tasks, containment),
`policies` and `service_scheduler` (the assembled `Scheduler`).
"""

from ecs_watchdog.replay.scheduler.model import START_JITTER
from ecs_watchdog.replay.scheduler.policies import policy_configs
from ecs_watchdog.replay.scheduler.records import (
    ContainerState,
    Containment,
    DeploymentEvent,
    DeploymentView,
    HookEvent,
    HookView,
    LambdaHookInvocation,
    SchedulerCommandError,
    ServiceActionEvent,
    ServiceMessage,
    ServiceView,
    SimEvent,
    TaskEvent,
    TaskView,
)
from ecs_watchdog.replay.scheduler.service_scheduler import SPOT_REASON, Scheduler
from ecs_watchdog.replay.scheduler.statistics import failure_stops
from ecs_watchdog.replay.scheduler.threshold import BREAKER_MAX_THRESHOLD, BREAKER_MIN_THRESHOLD, breaker_threshold
from ecs_watchdog.replay.scheduler.throttle import (
    THROTTLE_FIRST_DELAY_SECONDS,
    THROTTLE_MAX_DELAY_SECONDS,
    throttle_delay,
)

__all__ = [
    "BREAKER_MAX_THRESHOLD",
    "BREAKER_MIN_THRESHOLD",
    "SPOT_REASON",
    "START_JITTER",
    "THROTTLE_FIRST_DELAY_SECONDS",
    "THROTTLE_MAX_DELAY_SECONDS",
    "ContainerState",
    "Containment",
    "DeploymentEvent",
    "DeploymentView",
    "HookEvent",
    "HookView",
    "LambdaHookInvocation",
    "Scheduler",
    "SchedulerCommandError",
    "ServiceActionEvent",
    "ServiceMessage",
    "ServiceView",
    "SimEvent",
    "TaskEvent",
    "TaskView",
    "breaker_threshold",
    "failure_stops",
    "policy_configs",
    "throttle_delay",
]
