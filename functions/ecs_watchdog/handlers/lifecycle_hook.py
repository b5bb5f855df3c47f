"""Lambda entry point for ECS deployment lifecycle hooks (the `hookTargetArn` of a service's lifecycle hook).

Answers `hookStatus` SUCCEEDED / FAILED / IN_PROGRESS from the state table. Never raises, not even when
misconfigured: an error would roll the customer's deployment back (deployment_gate.py, docs/containment.md).
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ecs_watchdog.aws.service_revisions import ServiceRevisions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.gate.lambda_hook import SUCCEEDED, HookSettings, LambdaHookGate

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace="EcsWatchdog", service="ecs-watchdog")
_gate: LambdaHookGate | None = None


def gate() -> LambdaHookGate:
    """The gate, built from the environment on first use and reused while warm."""
    global _gate
    if _gate is None:
        settings = HookSettings(state_table_name=os.environ.get("STATE_TABLE_NAME", ""))
        session = boto3.Session()
        store = StateTable(session.client("dynamodb"), settings.state_table_name)
        _gate = LambdaHookGate(ServiceRevisions(session.client("ecs")), store)
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
