"""ECS's service throttle logic: launches that keep failing before RUNNING are retried ever more slowly.

AWS documents that the time between restart attempts grows "up to a maximum of 27 minutes", that tasks
stopped after RUNNING are never throttled and that a new task definition resets it; the growth curve is
ours (docs/replay.md): retry at once, then 30 s doubling per consecutive failed round, capped at 27 min.
"""

from __future__ import annotations

from ecs_watchdog.replay.scheduler.model import LiveService, LiveTask

THROTTLE_FIRST_DELAY_SECONDS = 30.0
THROTTLE_MAX_DELAY_SECONDS = 27 * 60.0


def throttle_delay(consecutive_failed_rounds: int) -> float:
    """Seconds ECS waits before the next launch after this many consecutive failed launch rounds."""
    if consecutive_failed_rounds <= 1:
        return 0.0
    return min(THROTTLE_MAX_DELAY_SECONDS, THROTTLE_FIRST_DELAY_SECONDS * 2 ** (consecutive_failed_rounds - 2))


def record_failed_launch(svc: LiveService, task: LiveTask, now: float) -> bool:
    """Count a task that failed before RUNNING; True when the service is now throttled (start impaired)."""
    if task.launch_round <= svc.last_failed_round:
        return False
    # One launch round counts once, however many of its tasks fail.
    svc.last_failed_round = task.launch_round
    svc.failed_start_rounds += 1
    delay = throttle_delay(svc.failed_start_rounds)
    if delay <= 0:
        return False
    svc.not_before = now + delay
    return True


def reset_throttle(svc: LiveService) -> None:
    """A new task definition returns the service to normal, non-throttled launching at once."""
    svc.failed_start_rounds = 0
    svc.not_before = 0.0
