"""A monthly cost estimate from measured per-event work, with the prices and assumptions spelled out.

Prices are AWS's public on-demand list prices for us-east-1 as of the date below; check them before
relying on the figure. Nothing here is measured in AWS: the per-event work (duration, DynamoDB reads
and writes, log bytes, messages) comes from the benchmark's run of the real handler on moto.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PRICES_AS_OF = "2025-06-01"
PRICES_USD = {
    "lambda_arm64_gb_second": 0.0000133334,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_on_demand_wru": 0.625 / 1e6,  # on-demand write request unit (price since 2024-11-01)
    "dynamodb_on_demand_rru": 0.125 / 1e6,  # on-demand read request unit
    "sqs_standard_request": 0.40 / 1e6,  # per 64 KB chunk of a request
    "sns_publish": 0.50 / 1e6,
    "sns_email_delivery": 2.00 / 1e5,
    "eventbridge_aws_service_event": 0.0,  # AWS service events on the default bus: no charge
    "cloudwatch_logs_ingest_gb": 0.50,
    "cloudwatch_custom_metric_month": 0.30,  # each distinct metric name + dimension set (first 10,000)
}


@dataclass(frozen=True)
class Assumptions:
    """What a month of 100 services looks like (the events each service produces, and their mix)."""

    services: int = 100
    # Per service per month: ~20 deployments replacing 5 tasks each (benign stops), scale-in and Spot
    # reclaims, a few failures, deployment state changes (3 per deployment) and service actions.
    events_per_service: Mapping[str, int] = field(
        default_factory=lambda: {
            "task stopped (benign)": 150,
            "task stopped (failure)": 30,
            "deployment": 60,
            "service action": 90,
        }
    )
    memory_gb: float = 0.5  # the events function's memory (infra/functions.py)
    batch_size: float = 10.0  # SQS batch size; a quiet account sees smaller batches: see sqs_requests_per_event
    sqs_requests_per_event: float = 3.0  # EventBridge's send, Lambda's receive and delete, unbatched (worst case)
    lambda_platform_log_bytes: int = 350  # START/END/REPORT lines per invocation
    email_subscribers: int = 2
    metric_series: int = 40  # distinct EMF series in a month (categories seen, transitions, channels, ...)


def monthly_cost(
    per_event: Mapping[str, Mapping[str, float]], messages_per_month: float, a: Assumptions
) -> dict[str, Any]:
    """USD per month for `a.services` services: `per_event` maps an event kind to its measured
    `ms` (median handler time), `dynamodb_reads`, `dynamodb_writes` and `log_bytes`."""
    p = PRICES_USD
    lines: dict[str, float] = {}
    events = 0.0
    gb_seconds = reads = writes = log_bytes = 0.0
    for kind, per_service in a.events_per_service.items():
        work = per_event.get(kind)
        if work is None:
            continue
        n = per_service * a.services
        events += n
        gb_seconds += n * work["ms"] / 1000 * a.memory_gb
        reads += n * work["dynamodb_reads"]
        writes += n * work["dynamodb_writes"]
        log_bytes += n * work["log_bytes"]
    invocations = events  # a quiet account: about one event per invocation (the expensive case)
    log_bytes += invocations * a.lambda_platform_log_bytes
    lines["lambda"] = gb_seconds * p["lambda_arm64_gb_second"] + invocations * p["lambda_request"]
    # A state item is 1-4 KB: a read is 1 RRU (strongly consistent, <= 4 KB), a write 2-4 WRU; 3 assumed.
    lines["dynamodb"] = reads * p["dynamodb_on_demand_rru"] + writes * 3 * p["dynamodb_on_demand_wru"]
    lines["sqs"] = events * a.sqs_requests_per_event * p["sqs_standard_request"]
    lines["sns"] = messages_per_month * (p["sns_publish"] + a.email_subscribers * p["sns_email_delivery"])
    lines["eventbridge"] = events * p["eventbridge_aws_service_event"]
    lines["cloudwatch_logs"] = log_bytes / 1e9 * p["cloudwatch_logs_ingest_gb"]
    lines["cloudwatch_metrics"] = a.metric_series * p["cloudwatch_custom_metric_month"]
    return {
        "prices_as_of": PRICES_AS_OF,
        "region": "us-east-1",
        "assumptions": {**asdict(a), "events_per_service": dict(a.events_per_service)},
        "events_per_month": events,
        "messages_per_month": messages_per_month,
        "usd_per_month": {k: round(v, 4) for k, v in lines.items()},
        "usd_per_month_total": round(sum(lines.values()), 2),
    }
