"""The replay's ground truth: failed stops, and when a service stopped launching failing tasks.

"Contained" means the service's primary deployment no longer launches failing tasks: its revision
behaves, the failing deployment stalled, or the desired count is 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecs_watchdog.replay.scheduler.model import LiveService
from ecs_watchdog.replay.scheduler.records import Containment, SimEvent, TaskEvent


def launching_failing_tasks(svc: LiveService) -> bool:
    """True while the service's primary deployment would launch tasks that fail."""
    if not svc.deployments or svc.desired_count == 0:
        return False
    primary = svc.deployments[0]
    return not primary.stalled and svc.behaviours[primary.revision].fails


def check_containment(svc: LiveService, now: float) -> None:
    """Record the first moment, after a failure, when the service stopped launching failing tasks."""
    stats = svc.stats
    if stats.first_failure_at is None or stats.containment is not None:
        return
    if not launching_failing_tasks(svc):
        stats.containment = Containment(at=now, by=svc.last_change, failed_before=stats.failed_total)


def failure_stops(events: Iterable[SimEvent]) -> list[TaskEvent]:
    """The failed (non-benign) task stops among `events`."""
    return [e for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED" and e.failure]
