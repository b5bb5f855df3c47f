"""Lambda entry point for the ECS events queue (SQS → EventBridge envelopes → pipeline), and for a raw
EventBridge event pasted as a console test event.

A record is done, parked (it can never succeed) or reported as a batch item failure (SQS retries it
and, after maxReceiveCount, moves it to the DLQ); the rest of the batch is unaffected. See flow/intake.py.
"""

from __future__ import annotations

import logging
import os
from typing import Any, cast

from aws_lambda_powertools import Logger, Metrics

from ecs_watchdog.flow.intake import Intake
from ecs_watchdog.flow.sqs_batch import partial_response
from ecs_watchdog.metrics.catalog import NAMESPACE, SERVICE
from ecs_watchdog.metrics.metering import DimensionedCounts, counter
from ecs_watchdog.wiring.events import build_intake
from ecs_watchdog.wiring.settings import Settings

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
dimensioned = DimensionedCounts()  # metrics split by category, channel, transition: flushed per invocation
count = counter(lambda name, unit, value: metrics.add_metric(name=name, unit=unit, value=value), dimensioned)
_intake: Intake | None = None


def intake() -> Intake:
    """The intake, built from the environment on first use and reused while warm."""
    global _intake
    if _intake is None:
        _intake = build_intake(Settings.from_environment(), count=count, correlate=logger.set_correlation_id)
    return _intake


def install(settings: Settings, session: Any, clock: Any = None) -> None:
    """Build the intake over this boto3 session instead of the environment's (the simulator's moto account,
    and its simulated clock)."""
    global _intake
    extra = {"clock": clock} if clock is not None else {}
    _intake = build_intake(settings, session, count, logger.set_correlation_id, **extra)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Built before anything else: a misconfigured function fails the invocation (Errors alarm), instead
    # of failing each record quietly into the DLQ.
    current = intake()
    # Channels found down in an earlier invocation are tried again, and never past the time this one has left.
    current.begin(getattr(context, "get_remaining_time_in_millis", None))
    try:
        if isinstance(event, dict) and isinstance(event.get("Records"), list):
            # The batch's own record of a failure (WARNING, with the traceback) lands with ours through the
            # handler's logger; flow/intake.py logs the reason at ERROR. Powertools' Logger quacks like
            # logging.Logger, which is all partial_response asks of it.
            return partial_response(event["Records"], current.record, cast(logging.Logger, logger))
        return current.console(event)
    finally:
        dimensioned.flush()


if os.environ.get("WATCHDOG_TRACING") == "true":  # X-Ray costs ~350 ms of cold start: only when asked
    from aws_lambda_powertools import Tracer

    handler = Tracer().capture_lambda_handler(handler)
