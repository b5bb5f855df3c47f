"""The replay's ground truth: failed stops, and when a service stopped launching failing tasks.

"Contained" means the service's primary deployment no longer launches failing tasks: its revision
behaves, the failing deployment stalled, or the desired count is 0.

A *good* revision is one that, left alone, reaches its desired count: it is healthy, or its tasks fail
only by chance (`probability` below 1: each replacement launch gets another draw). Undoing a deployment
of one (a rollback, a stall, a scale to zero by anything but the scenario's timeline) is a false alarm
acted on: the figure `good_deployments_rolled_back` counts them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecs_watchdog.replay.scenario import Behaviour
from ecs_watchdog.replay.scheduler.model import LiveDeployment, LiveService
from ecs_watchdog.replay.scheduler.records import Containment, SimEvent, TaskEvent


def launching_failing_tasks(svc: LiveService) -> bool:
    """True while the service's primary deployment would launch tasks that fail."""
    if not svc.deployments or svc.desired_count == 0:
        return False
    primary = svc.deployments[0]
    return not primary.stalled and svc.behaviours[primary.revision].fails


def check_containment(svc: LiveService, now: float) -> None:
    """Record the first moment, after a failure or a deployment set to launch failing tasks, when the service
    stopped launching failing tasks (a rollback before the first failure is contained with 0 failed)."""
    stats = svc.stats
    if stats.containment is not None:
        return
    launching = launching_failing_tasks(svc)
    if launching and stats.failing_deployment_at is None:
        stats.failing_deployment_at = now
    if stats.first_failure_at is None and stats.failing_deployment_at is None:
        return
    if not launching:
        stats.containment = Containment(at=now, by=svc.last_change, failed_before=stats.failed_total)


def failure_stops(events: Iterable[SimEvent]) -> list[TaskEvent]:
    """The failed (non-benign) task stops among `events`."""
    return [e for e in events if isinstance(e, TaskEvent) and e.last_status == "STOPPED" and e.failure]


# Causes that come from the scenario's own timeline: a person's deploy or scale is no false alarm.
TIMELINE_CAUSES = ("deploy", "scale:", "break:")


def good_revision(behaviour: Behaviour) -> bool:
    """Left alone, a deployment of this revision completes: it never fails, or fails only by chance."""
    return not behaviour.fails or behaviour.probability < 1.0


def good_deployments_rolled_back(svc: LiveService) -> int:
    """Deployments of a good revision that never completed because something other than the timeline
    undid them: rolled back (breaker, StopServiceDeployment, a hook), stalled by the breaker, replaced by
    an UpdateService to another revision, or scaled to zero while primary."""
    history = svc.history
    undone = 0
    for index, dep in enumerate(history):
        if dep.rollout_state == "COMPLETED" or not good_revision(svc.behaviours[dep.revision]):
            continue
        if _undone(svc, dep, history[index + 1] if index + 1 < len(history) else None):
            undone += 1
    return undone


def _undone(svc: LiveService, dep: LiveDeployment, successor: LiveDeployment | None) -> bool:
    if dep.rolled_back_to is not None or dep.stalled:
        return True
    if successor is not None:
        return not successor.cause.startswith(TIMELINE_CAUSES)
    # The last deployment: undone when the service was scaled to zero by something but the timeline.
    return svc.desired_count == 0 and not svc.last_change.startswith(TIMELINE_CAUSES)
