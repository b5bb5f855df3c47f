"""In-memory adapters that behave like the real ones (not mocks), for pipeline tests without moto.

- `MemoryStore` (store.py) is the state table; `store.container()` is one Lambda container's view.
- `MemoryServices` (ecs.py) answers DescribeServices with a `ServiceSnapshot`, None, or an error.
- `RecordingChannel` (delivery.py) renders like the real channel, refuses what the real service
  would, records what it sent, and can be scripted to fail; `RecordingParker` records parked records.
- `Clock` is a settable wall clock.

`watchdog(store, ...)` builds a Pipeline from them; two calls over one store are two containers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.events import parse_envelope
from ecs_watchdog.flow.pipeline import Outcome, Pipeline
from ecs_watchdog.incidents.policy import LoopPolicy
from tests.fakes.delivery import ParkingRefused, RecordingChannel, RecordingParker, Refused, Sent
from tests.fakes.ecs import T0, MemoryServices, completed_snapshot
from tests.fakes.store import OPERATIONS, ContainerDied, MemoryStateTable, MemoryStore, no_pause

__all__ = [
    "OPERATIONS",
    "T0",
    "Clock",
    "ContainerDied",
    "MemoryServices",
    "MemoryStateTable",
    "MemoryStore",
    "ParkingRefused",
    "RecordingChannel",
    "RecordingParker",
    "Refused",
    "Sent",
    "completed_snapshot",
    "process",
    "watchdog",
]

# The modules' child loggers need their parent, which the Lambda handler module creates at import
# (without it, Intake.record raises OrphanedChildLoggerError setting the correlation id).
service_logger = Logger(service="ecs-watchdog")


@dataclass
class Clock:
    """A settable wall clock (the outbox's leases read it)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **by: float) -> None:
        """Move on by `timedelta(**by)`, e.g. `clock.advance(seconds=91)`."""
        self.now += timedelta(**by)


def watchdog(
    store: MemoryStore,
    *,
    channels: Iterable[RecordingChannel] | None = None,
    services: MemoryServices | None = None,
    clock: Clock | None = None,
    lease: timedelta = timedelta(seconds=90),
    policy: LoopPolicy | None = None,
    home: tuple[str, str] | None = None,
    organization: str | None = None,
) -> Pipeline:
    """A Pipeline as one Lambda container over `store`: its own cache, its own outbox memory."""
    return Pipeline(
        state=store.container(),
        services=services or MemoryServices(),
        outbox=Outbox(
            list(channels) if channels is not None else [RecordingChannel("sns"), RecordingChannel("slack")],
            clock=clock or Clock(),
            lease=lease,
            pause=no_pause,
        ),
        policy=policy or LoopPolicy(),
        home=home,
        organization=organization,
        pause=no_pause,
    )


def process(pipeline: Pipeline, event: dict[str, Any]) -> Outcome:
    """Parse a raw EventBridge event and run it through the pipeline, as the handler does."""
    return pipeline.process(parse_envelope(event))
