"""What the incident rules take and give back: the facts of one stop, DescribeServices' snapshot, the Result.

The incident engine is pure functions from (service state, event, now) to (new state, transitions),
one module per kind of input: `failed_stops.py`, `deployments.py`, `service_action_events.py`,
`timers.py`, `action_outcomes.py` (on the shared primitives of `lifecycle.py`). No boto3, no clock:
callers pass "now" (from the event or an injected clock) and whatever they looked up (a
DescribeServices snapshot, a probe verdict). Each function works on a copy and says whether the state
changed, so callers write only when it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ecs_watchdog.incidents.model import Explanation, IncidentStatus, ServiceState, Transition

MAX_OUTBOX = 50  # undelivered announcements a service keeps; lifecycle.record_transition drops the oldest
ACTIVE = (IncidentStatus.OPEN, IncidentStatus.CONTAINED)


@dataclass(frozen=True)
class StopFacts:
    """What the engine needs to know about one failed stop (built from a Stop + Classification)."""

    task_id: str
    version: int
    task_definition: str
    deployment_id: str | None
    category: str
    at: datetime
    summary: str
    explanation: Explanation | None = None


@dataclass(frozen=True)
class DeploymentSnapshot:
    """One deployment as DescribeServices shows it."""

    id: str
    task_definition: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED
    created_at: datetime | None = None


@dataclass(frozen=True)
class ServiceSnapshot:
    """What DescribeServices said about a service: its deployments and tags."""

    deployments: tuple[DeploymentSnapshot, ...]
    tags: dict[str, str] = field(default_factory=dict)
    threshold_override: int | None = None

    def completed(self) -> DeploymentSnapshot | None:
        """The deployment that last completed: the PRIMARY when it completed, else the newest COMPLETED."""
        done = [d for d in self.deployments if d.rollout_state == "COMPLETED"]
        primary = [d for d in done if d.status == "PRIMARY"]
        if primary:
            return primary[0]
        return max(done, key=lambda d: d.created_at.timestamp() if d.created_at else 0.0, default=None)

    def in_progress(self) -> list[DeploymentSnapshot]:
        return [d for d in self.deployments if d.rollout_state == "IN_PROGRESS"]


@dataclass
class Result:
    """The engine's answer: the new state, the transitions it caused, and whether to write it."""

    state: ServiceState
    transitions: list[Transition] = field(default_factory=list)
    changed: bool = False
    note: str = ""
