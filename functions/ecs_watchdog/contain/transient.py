"""Judge like an operator, not a counter: are a revision's failures transient start-up failures?

Pure. A revision whose tasks run and pass their health checks for longer than its failed tasks lived is
not a failing deployment: a database still warming, a dependency slow to answer, make some launches exit
while the rest serve. Rolling it back (what a breaker at COUNT 1 does) throws a good deployment away.
So containment holds back while both are true:
- at least one task of the failing revision is RUNNING, not UNHEALTHY, and has run longer than the
  longest-lived of its failed tasks (so it is past whatever killed them: a failure at start-up is
  outlived within seconds, a health check that fails after two minutes only after two minutes);
- the service keeps its desired count: those proven tasks plus the running tasks of other revisions are at
  least the desired count (failures that keep the service short of it are not transient, whatever runs).
Otherwise — nothing of the revision has outlived its failures (seed 004: every task fails its ELB health
checks two minutes after starting), or the service is short — the failures are a failing deployment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ecs_watchdog.contain.models import ServiceView

# Stops that are failures of the task itself (the rest — scale-in, a deployment's drain, a person's
# StopTask, Spot — say nothing about the revision).
FAILURE_STOP_CODES = frozenset({"EssentialContainerExited", "TaskFailedToStart"})
HEALTH_CHECK_FAILURE = "failed"  # "Task failed ELB health checks in ...", "Task failed container health checks"


class TaskSample(BaseModel):
    """One task of the service as DescribeTasks shows it: what the judgement reads."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_definition: str
    last_status: str  # RUNNING | STOPPED | PENDING ...
    health_status: str = "UNKNOWN"  # HEALTHY | UNHEALTHY | UNKNOWN (no container health check)
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None

    @property
    def failed(self) -> bool:
        """Stopped by a failure of its own: an essential container exited, it never started, a health check."""
        if self.last_status != "STOPPED":
            return False
        reason = (self.stopped_reason or "").lower()
        return self.stop_code in FAILURE_STOP_CODES or ("health check" in reason and HEALTH_CHECK_FAILURE in reason)

    def lived(self) -> timedelta | None:
        """From start (or creation, when it never started) to stop."""
        began = self.started_at or self.created_at
        return self.stopped_at - began if began and self.stopped_at else None


def transient_start_up_failures(failing: str, tasks: list[TaskSample], view: ServiceView, now: datetime) -> str | None:
    """Why the failures of `failing` are transient start-up failures (hold containment back), with the
    rate and the evidence; None when they are not (or there is nothing to judge them by)."""
    mine = [t for t in tasks if t.task_definition == failing]
    failed = [t for t in mine if t.failed]
    lifetimes = [life for life in (t.lived() for t in failed) if life is not None]
    if not lifetimes:
        return None
    longest = max(lifetimes)
    proven = [
        t
        for t in mine
        if t.last_status == "RUNNING"
        and t.health_status != "UNHEALTHY"
        and t.started_at is not None
        and now - t.started_at > longest
    ]
    if not proven:
        return None
    serving = len(proven) + view.running_other_than(failing)
    if serving < view.desired_count:
        return None
    launches = len(failed) + sum(1 for t in mine if t.last_status == "RUNNING")
    oldest = max(now - t.started_at for t in proven if t.started_at is not None)
    return (
        f"transient start-up failures, not a failing deployment: {len(failed)} of {launches} tasks of "
        f"{_short(failing)} failed ({100 * len(failed) // max(launches, 1)}%), each within {_span(longest)} of "
        f"starting, while {len(proven)} of its tasks have run longer (up to {_span(oldest)}) without "
        f"failing a health check, and the service keeps its {view.desired_count} desired tasks running ({serving})"
    )


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
