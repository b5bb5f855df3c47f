"""Lambda entry point for the ECS events queue (SQS → EventBridge envelopes → pipeline).

A record that cannot be parsed or delivered is reported as a batch item failure: SQS retries it
and, after maxReceiveCount, moves it to the dead-letter queue. The rest of the batch succeeds.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ecs_watchdog.events import MalformedEvent, parse_envelope
from ecs_watchdog.pipeline import Pipeline
from ecs_watchdog.wiring import Settings, build_pipeline

logger = Logger(service="ecs-watchdog")
metrics = Metrics(namespace="EcsWatchdog", service="ecs-watchdog")
# A batch whose records all fail must still answer with batchItemFailures, not raise: raising would
# fail the invocation and hide which records were bad.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_pipeline: Pipeline | None = None


def pipeline() -> Pipeline:
    """The pipeline, built from the environment on first use and reused while warm."""
    global _pipeline
    if _pipeline is None:
        _pipeline = build_pipeline(Settings.from_environment())
    return _pipeline


def install_pipeline(replacement: Pipeline) -> None:
    """Use this pipeline instead of one built from the environment (the simulator's moto session)."""
    global _pipeline
    _pipeline = replacement


def record_handler(record: SQSRecord) -> None:
    try:
        event = parse_envelope(record.body)
    except MalformedEvent as error:
        metrics.add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        logger.error(
            "malformed event, will retry then dead-letter",
            extra={"message_id": record.message_id, "problem": str(error)},
        )
        raise
    logger.set_correlation_id(event.id)
    redelivered = int(record.attributes.approximate_receive_count or 1) > 1
    outcome = pipeline().process(event, redelivered=redelivered)
    if outcome.finding:
        c = outcome.finding.classification
        metrics.add_metric(name=f"Stops_{c.category}", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="FailureStops" if c.failure else "BenignStops", unit=MetricUnit.Count, value=1)
    for transition in outcome.transitions:
        metrics.add_metric(name=f"Incidents_{transition.kind}", unit=MetricUnit.Count, value=1)
    logger.info(
        "event processed",
        extra={
            "outcome": outcome.kind,
            "reason": outcome.reason,
            "channels": list(outcome.channels),
            "transitions": [t.id for t in outcome.transitions],
        },
    )


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # Built before the batch: a misconfigured function fails the invocation (Errors alarm), instead of
    # failing each record quietly into the DLQ.
    pipeline()
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


if os.environ.get("WATCHDOG_TRACING") == "true":  # X-Ray costs ~350 ms of cold start: only when asked
    from aws_lambda_powertools import Tracer

    handler = Tracer().capture_lambda_handler(handler)
