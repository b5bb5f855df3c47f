"""How the watchdog's counts reach CloudWatch: Powertools EMF lines on the function's log stream.

Dimension-less metrics go through the handler's Powertools `Metrics` (one EMF line per invocation);
metrics with dimensions (catalog.py says which) are summed per invocation and printed by
`EphemeralMetrics`, one line per distinct dimension set. Notifications are counted where they
happen, at each channel (`CountedChannel`), so a send that fails is counted even though the record
is then retried by SQS.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from aws_lambda_powertools.metrics import EphemeralMetrics

from ecs_watchdog.announce.channels import ChannelDown, ChannelUnavailable
from ecs_watchdog.incidents.model import Transition
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.metrics.catalog import CATALOG, NAMESPACE, SERVICE, MetricSpec, key, parse_key

Count = Callable[[str, float], None]  # a catalog.key(...) string, and the value to add
AddMetric = Callable[[str, str, float], None]  # name, unit, value: Powertools Metrics.add_metric
MAX_REMEMBERED_FAILURES = 1000  # transitions whose failed sends a channel remembers, to count retries


@dataclass
class DimensionedCounts:
    """Counts of metrics with dimensions, summed over one invocation and printed as EMF at its end.

    Powertools' `Metrics` holds one dimension set per flush, so metrics split by category, channel or
    transition are summed here and printed by Powertools `EphemeralMetrics`, one EMF line per
    distinct dimension set (a batch of 10 stops of one cause is one line, not ten)."""

    namespace: str = NAMESPACE
    service: str = SERVICE
    _counts: defaultdict[tuple[str, tuple[tuple[str, str], ...]], float] = field(
        default_factory=lambda: defaultdict(float)
    )

    def add(self, spec: MetricSpec, dimensions: dict[str, str], value: float) -> None:
        """Add `value` to the metric under these dimension values."""
        self._counts[(spec.name, tuple(sorted(dimensions.items())))] += value

    def flush(self) -> None:
        """Print one EMF document (stdout: the function's log stream) per dimension set, and forget them."""
        grouped: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
        for (name, dims), value in self._counts.items():
            grouped.setdefault(dims, {})[name] = value
        self._counts.clear()
        for dims, values in grouped.items():
            emf = EphemeralMetrics(namespace=self.namespace, service=self.service)
            for dimension, dimension_value in dims:
                emf.add_dimension(name=dimension, value=dimension_value)
            for name, total in sorted(values.items()):
                emf.add_metric(name=name, unit=CATALOG[name].unit, value=total)
            emf.flush_metrics()


def counter(add_metric: AddMetric, dimensioned: DimensionedCounts) -> Count:
    """The intake's `count(name, value)`: routes each catalog key to Powertools `Metrics` (no
    dimensions) or to `dimensioned` (flushed by the handler at the end of the invocation)."""

    def count(counted: str, value: float) -> None:
        spec, dimensions = parse_key(counted)
        if dimensions:
            dimensioned.add(spec, dimensions, value)
        else:
            add_metric(spec.name, spec.unit, value)

    return count


class Channel(Protocol):
    name: str

    def send(self, transition: Transition, ref: ServiceRef) -> None: ...


@dataclass
class CountedChannel:
    """A channel that counts its sends: sent, failed (the record goes back to SQS), retried (sent after
    this container saw it fail) and unavailable (misconfigured); a channel down is counted as deferred by
    the intake, once per message the outbox keeps. Sends and raises exactly as `inner`."""

    inner: Channel
    count: Count
    name: str = ""  # the inner channel's
    _failed: dict[str, None] = field(default_factory=dict)  # insertion-ordered set, bounded

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        try:
            self.inner.send(transition, ref)
        except ChannelUnavailable:
            self._count("unavailable")
            raise
        except ChannelDown:
            raise  # deferred, not failed: the intake counts each message kept for later (Outcome.deferred)
        except Exception:
            self._count("failed")
            self._failed[transition.id] = None
            while len(self._failed) > MAX_REMEMBERED_FAILURES:
                del self._failed[next(iter(self._failed))]
            raise
        self._count("sent")
        if transition.id in self._failed:
            del self._failed[transition.id]
            self._count("retried")

    def _count(self, result: str) -> None:
        self.count(key("Notifications", channel=self.name, result=result), 1)
