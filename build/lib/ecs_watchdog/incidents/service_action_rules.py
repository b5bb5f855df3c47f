"""What each `ECS Service Action` event means to the watchdog: rules as data, read by `service_action_events.py`.

The stack's rule delivers every WARN and ERROR service action plus SERVICE_STEADY_STATE (see the ECS
guide "Amazon ECS service action events"). Each name has one defined effect; a name not listed here
(ECS adds them over time) is treated like the `note` ones and its outcome says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Effect = Literal["resolve", "open", "note"]


@dataclass(frozen=True)
class ServiceActionRule:
    effect: Effect
    # For `open`: the incident's reason. For `note`: why the event alone opens nothing.
    meaning: str


SERVICE_ACTION_RULES: dict[str, ServiceActionRule] = {
    "SERVICE_STEADY_STATE": ServiceActionRule(
        "resolve", "the service is healthy: its active incidents resolve and its revision is known good"
    ),
    "SERVICE_TASK_START_IMPAIRED": ServiceActionRule(
        "open", "ECS reports the service is unable to consistently start tasks successfully"
    ),
    "SERVICE_TASK_CONFIGURATION_FAILURE": ServiceActionRule(
        "open",
        "ECS cannot configure the service's tasks (no task was started: e.g. a tag, volume or network setting "
        "it refuses)",
    ),
    "SERVICE_TASK_PLACEMENT_FAILURE": ServiceActionRule(
        "note",
        "no capacity or no instance meets the constraints; usually transient while capacity scales out, and a "
        "lasting one shows as a stuck deployment",
    ),
    "ECS_OPERATION_THROTTLED": ServiceActionRule(
        "note", "ECS was throttled calling another service on the service's behalf; it retries by itself"
    ),
    "SERVICE_DISCOVERY_OPERATION_THROTTLED": ServiceActionRule(
        "note", "Cloud Map throttled ECS; registration is retried by ECS"
    ),
    "SERVICE_DISCOVERY_INSTANCE_UNHEALTHY": ServiceActionRule(
        "note", "a Cloud Map health check failed; tasks that really fail are seen when they stop"
    ),
    "SERVICE_DAEMON_PLACEMENT_CONSTRAINT_VIOLATED": ServiceActionRule(
        "note", "a daemon task no longer meets its placement constraints on an instance; ECS stops it by design"
    ),
}

UNLISTED = ServiceActionRule("note", "a service action the watchdog has no rule for")


def rule_for(event_name: str) -> ServiceActionRule:
    """The rule of a service action name (UNLISTED when the watchdog has none)."""
    return SERVICE_ACTION_RULES.get(event_name, UNLISTED)
