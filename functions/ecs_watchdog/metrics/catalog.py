"""Every metric the watchdog publishes: name, unit, meaning and dimensions, defined once.

The code counts through `key(...)` (checked against this catalog) and the dashboard draws from the
same catalog (infra/dashboard.py), so the two cannot drift apart (tests/unit/test_metrics_catalog.py).

Dimensions are low-cardinality on purpose: each is drawn from a fixed vocabulary (17 stop categories,
failure/benign, 5 transition kinds, the action kinds and modes, a few probe verdicts, the channel
names). CloudWatch bills every distinct dimension set as its own metric, so a per-service or per-task
dimension would cost (and clutter) in proportion to the fleet; which services fail comes from Logs
Insights over the `event processed` and `incident transition` log lines instead.

How counts reach CloudWatch (Powertools EMF) is in `ecs_watchdog/metrics/metering.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "EcsWatchdog"
SERVICE = "ecs-watchdog"  # Powertools' `service` dimension, on every metric


@dataclass(frozen=True)
class MetricSpec:
    """One published metric: what it counts and by which dimensions (besides `service`)."""

    name: str
    meaning: str
    dimensions: tuple[str, ...] = ()
    unit: str = "Count"


CATALOG: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec(
            "Stops", "stopped service tasks, by root-cause category and failure/benign", ("category", "outcome")
        ),
        MetricSpec("UnknownStops", "stopped tasks no rule recognised (category unknown): a rule is missing"),
        MetricSpec(
            "Incidents", "incident transitions made (opened, contained, resolved, reopened, closed)", ("transition",)
        ),
        MetricSpec("Actions", "containment actions decided, by kind and the mode they ran in", ("action", "mode")),
        MetricSpec("Probes", "read-only diagnosis probe verdicts", ("probe", "result")),
        MetricSpec(
            "HookAnswers",
            "PAUSE lifecycle hook events, by verdict and what became of them: answered, "
            "failed_open (CONTINUE in dry-run or notify mode), waiting, "
            "already_answered, no_longer_awaiting, refused, expired or skipped",
            ("verdict", "result"),
        ),
        MetricSpec(
            "Notifications",
            "messages per channel: sent, failed (retried by SQS), retried (sent after a failure), unavailable, "
            "or deferred (the channel not answering, or no time left: kept in the outbox for the sweep's tick or "
            "the next event)",
            ("channel", "result"),
        ),
        MetricSpec("ParkedRecords", "records that can never succeed, parked on the events DLQ"),
        MetricSpec("MalformedEvents", "records that are not an ECS event the watchdog understands"),
        MetricSpec("UnstorableEvents", "events whose state cannot be stored however often retried"),
        MetricSpec("FailedRecords", "records that failed for a passing reason and go back to SQS"),
        MetricSpec("ChannelUnavailable", "announcements a misconfigured channel could not take"),
        # Powertools' own, with the function_name dimension (capture_cold_start_metric).
        MetricSpec("ColdStart", "cold starts of the events function", ("function_name",)),
    )
}

# The fixed vocabularies of the dimensions whose values the code chooses (the dashboard plots each).
STOP_OUTCOMES = ("failure", "benign")
NOTIFICATION_RESULTS = ("sent", "failed", "retried", "unavailable", "deferred")
PROBE_RESULTS = ("confirmed", "refuted", "inconclusive", "error")
HOOK_VERDICTS = ("CONTINUE", "ROLLBACK", "WAIT", "skipped")
HOOK_RESULTS = (
    "answered",
    "failed_open",
    "waiting",
    "already_answered",
    "no_longer_awaiting",
    "refused",
    "expired",
    "skipped",
)
SEPARATOR = "|"


def key(name: str, **dimensions: str) -> str:
    """The name the intake's `count(name, value)` takes: the metric, and its dimension values.

    Raises KeyError for a metric not in the catalog and ValueError for missing or extra dimensions,
    so a typo fails in the tests, never quietly in CloudWatch."""
    spec = CATALOG[name]
    if set(dimensions) != set(spec.dimensions):
        raise ValueError(f"metric {name} takes dimensions {spec.dimensions}, got {tuple(dimensions)}")
    parts = [name, *(f"{d}={_clean(dimensions[d])}" for d in spec.dimensions)]
    return SEPARATOR.join(parts)


def parse_key(counted: str) -> tuple[MetricSpec, dict[str, str]]:
    """The metric and dimension values of a `key(...)` string (a bare name for dimension-less ones)."""
    name, *pairs = counted.split(SEPARATOR)
    spec = CATALOG[name]
    dimensions = dict(pair.split("=", 1) for pair in pairs)
    if set(dimensions) != set(spec.dimensions):
        raise ValueError(f"metric {name} takes dimensions {spec.dimensions}, got {tuple(dimensions)}")
    return spec, dimensions


def _clean(value: str) -> str:
    # A dimension value holds neither separator; values are short names from fixed vocabularies.
    return str(value).replace(SEPARATOR, "_").replace("=", "_")[:64] or "none"
