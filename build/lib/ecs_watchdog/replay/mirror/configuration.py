"""A service's deployment configuration both ways: the model's `DeploymentConfig` in ECS's shape, and an
UpdateService `deploymentConfiguration` merged into the model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ecs_watchdog.replay.scenario import BreakerConfig, DeploymentConfig


def deployment_configuration(config: DeploymentConfig) -> dict[str, Any]:
    """`deploymentConfiguration` as DescribeServices and DescribeServiceDeployments show it."""
    breaker = config.breaker
    shape: dict[str, Any] = {
        "deploymentCircuitBreaker": {
            "enable": breaker.enable,
            "rollback": breaker.rollback,
            "resetOnHealthyTask": breaker.reset_on_healthy_task,
            "thresholdConfiguration": {"type": breaker.threshold_type, "value": breaker.threshold_value},
        },
        "maximumPercent": config.maximum_percent,
        "minimumHealthyPercent": config.minimum_healthy_percent,
        "strategy": config.strategy,
    }
    if config.strategy != "ROLLING":
        shape["bakeTimeInMinutes"] = int(config.bake_time_minutes)
        shape["lifecycleHooks"] = [
            {
                "targetType": "PAUSE",
                "lifecycleStages": list(hook.stages),
                "timeoutConfiguration": {"timeoutInMinutes": hook.timeout_minutes, "action": hook.timeout_action},
            }
            for hook in config.lifecycle_hooks
        ]
    if config.traffic_shift is not None:
        shift = config.traffic_shift
        if config.strategy == "CANARY":
            shape["canaryConfiguration"] = {
                "canaryPercent": shift.percent,
                "canaryBakeTimeInMinutes": int(shift.interval_minutes),
            }
        else:
            shape["linearConfiguration"] = {
                "stepPercent": shift.percent,
                "stepBakeTimeInMinutes": int(shift.interval_minutes),
            }
    return shape


def merge_configuration(current: DeploymentConfig, requested: Mapping[str, Any]) -> DeploymentConfig:
    """`current` with what an UpdateService request sets: percents and the circuit breaker."""
    breaker = current.breaker
    raw = requested.get("deploymentCircuitBreaker")
    if raw:
        threshold = raw.get("thresholdConfiguration") or {}
        breaker = BreakerConfig(
            enable=raw.get("enable", breaker.enable),
            rollback=raw.get("rollback", breaker.rollback),
            threshold_type=threshold.get("type", breaker.threshold_type),
            threshold_value=threshold.get("value", breaker.threshold_value),
            reset_on_healthy_task=raw.get("resetOnHealthyTask", breaker.reset_on_healthy_task),
        )
    return replace(
        current,
        minimum_healthy_percent=requested.get("minimumHealthyPercent", current.minimum_healthy_percent),
        maximum_percent=requested.get("maximumPercent", current.maximum_percent),
        breaker=breaker,
    )
