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
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ecs_watchdog.flow.intake import Intake
from ecs_watchdog.metrics.catalog import NAMESPACE, SERVICE
from ecs_watchdog.metrics.metering import DimensionedCounts, counter
from ecs_watchdog.wiring.events import build_intake
from ecs_watchdog.wiring.settings import Settings

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
dimensioned = DimensionedCounts()  # metrics split by category, channel, transition: flushed per invocation
count = counter(lambda name, unit, value: metrics.add_metric(name=name, unit=unit, value=value), dimensioned)
# A batch whose records all fail must still answer with batchItemFailures, not raise: raising would
# fail the invocation and hide which records were bad.
# Given the logger so its own record of a failure (DEBUG) lands with ours; flow/intake.py logs the reason at ERROR.
processor = BatchProcessor(
    event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=cast(logging.Logger, logger)
)  # Powertools' Logger quacks like logging.Logger, which is all the processor asks of it
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


def record_handler(record: SQSRecord) -> None:
    intake().record(record.body, record.message_id)


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
            return dict(process_partial_response(event, record_handler, processor, context))
        return current.console(event)
    finally:
        dimensioned.flush()


if os.environ.get("WATCHDOG_TRACING") == "true":  # X-Ray costs ~350 ms of cold start: only when asked
    from aws_lambda_powertools import Tracer

    handler = Tracer().capture_lambda_handler(handler)
