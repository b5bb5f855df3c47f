"""Lambda entry point for the scheduled sweep (EventBridge Scheduler, every `watchdog:sweep_minutes`)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ecs_watchdog.sweep.step import Sweep
from ecs_watchdog.wiring.settings import Settings
from ecs_watchdog.wiring.sweep import SweepLimits, build_sweep

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace="EcsWatchdog", service="ecs-watchdog")
_sweep: Sweep | None = None


def sweep() -> Sweep:
    """The sweep, built from the environment on first use and reused while warm."""
    global _sweep
    if _sweep is None:
        _sweep = build_sweep(Settings.from_environment(), SweepLimits.from_environment())
    return _sweep


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = sweep().run()
    metrics.add_metric(name="SweepServicesChecked", unit=MetricUnit.Count, value=report.services_checked)
    metrics.add_metric(name="SweepServicesTicked", unit=MetricUnit.Count, value=report.ticked)
    metrics.add_metric(name="SweepTransitions", unit=MetricUnit.Count, value=report.transitions)
    metrics.add_metric(name="SweepErrors", unit=MetricUnit.Count, value=len(report.errors))
    return {
        "stopped": report.stopped,
        "checked": report.services_checked,
        "ticked": report.ticked,
        "findings": report.findings,
        "flagged": report.flagged,
        "errors": report.errors[:20],
    }
