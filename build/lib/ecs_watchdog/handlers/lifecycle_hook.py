"""Lambda entry point for ECS deployment lifecycle hooks (the `hookTargetArn` of a service's lifecycle hook).

Answers `hookStatus` SUCCEEDED / FAILED / IN_PROGRESS from the state table. Never raises, not even when
misconfigured: an error would roll the customer's deployment back (gate/lambda_hook.py, docs/containment.md).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ecs_watchdog.gate.lambda_hook import SUCCEEDED, LambdaHookGate
from ecs_watchdog.wiring.lifecycle_hook import build_lambda_hook_gate

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace="EcsWatchdog", service="ecs-watchdog")
_gate: LambdaHookGate | None = None


def gate() -> LambdaHookGate:
    """The gate, built from the environment on first use and reused while warm."""
    global _gate
    if _gate is None:
        _gate = build_lambda_hook_gate()
    return _gate


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        current = gate()
    except Exception:  # misconfigured: the watchdog's trouble never rolls a deployment back
        logger.exception("lifecycle hook cannot start: answered SUCCEEDED")
        metrics.add_metric(name="LifecycleHookTrouble", unit=MetricUnit.Count, value=1)
        return dict(SUCCEEDED)
    answer = current.answer(event)
    metrics.add_metric(name="LifecycleHookTrouble", unit=MetricUnit.Count, value=int(answer.trouble))
    logger.info("lifecycle hook answered", extra={**answer.model_dump(exclude={"response"}), **answer.response})
    return answer.response
