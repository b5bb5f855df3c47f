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

The same tasks also say when a failure needs no second one (`nothing_survived`): when the deployment
launched its whole desired count before its first failure and every one of those tasks has failed (there
is nothing left to wait for but the replacements the scheduler starts for the failures: a one-task
service whose only new task crashed, a two-task launch that failed its health checks together), or when
the failure is a failed health check and nothing serves: no task of another revision runs, none of the
new one is HEALTHY or has outlived its failures, and the revision it replaced was healthy (the service is
down). Then the first failure opens the incident. A launch smaller than the desired count (a
maximum percent of 120 starts one task at a time), a sibling still running while the old revision serves,
or a crash at start-up beside running siblings is what waiting is for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ecs_watchdog.contain.models import ServiceView

# Stops that are failures of the task itself (the rest — scale-in, a deployment's drain, a person's
# StopTask, Spot — say nothing about the revision).
FAILURE_STOP_CODES = frozenset({"EssentialContainerExited", "TaskFailedToStart"})
HEALTH_CHECK_FAILURE = "failed"  # "Task failed ELB health checks in ...", "Task failed container health checks"
# What the reader lists of each status at most (aws/service_tasks.py: one ListTasks page). A service that
# fills it shows only part of its tasks: too many to say from them that nothing survived.
TASKS_LISTED = 100


class TaskSample(BaseModel):
    """One task of the service as DescribeTasks shows it: what the judgement reads."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_definition: str
    last_status: str  # RUNNING | STOPPED | PENDING ...
    task_arn: str = ""
    started_by: str = ""  # a service task's deployment (ecs-svc/...)
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
        return self.stop_code in FAILURE_STOP_CODES or self.failed_health_checks

    @property
    def failed_health_checks(self) -> bool:
        """Stopped because its load balancer's (or its container's) health checks failed."""
        reason = (self.stopped_reason or "").lower()
        return self.last_status == "STOPPED" and "health check" in reason and HEALTH_CHECK_FAILURE in reason

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
    proven = _outlived(mine, longest, now)
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


def nothing_survived(
    failing: str,
    failed_task: str,
    tasks: list[TaskSample],
    now: datetime,
    *,
    desired: int,
    deployment: str | None,
    replaced_healthy: bool,
) -> str | None:
    """Why the failures of `failing` (the newest: task `failed_task`, of `deployment`) already are a failing
    deployment, before the failure threshold; None when a task of it may yet prove it, or when its tasks say
    too little (a page of a large service, a task stopped by a person or the scheduler, the failed task not
    shown stopped yet). `desired`: the service's desired count; `replaced_healthy`: a revision known good
    comes before it (a first deployment down is where it starts, not an outage to end)."""
    if len(tasks) >= TASKS_LISTED:
        return None  # a page of a large service: its other tasks may be anywhere
    if desired < 1:
        return None  # scaled to zero (a person, auto scaling): nothing of the deployment is wanted to run
    # This deployment's tasks of the revision: an earlier deployment of it (rolled back, deployed again by a
    # person) failed then, which says nothing of the tasks launched now.
    mine = [t for t in tasks if t.task_definition == failing and (not deployment or t.started_by in ("", deployment))]
    this = next((t for t in mine if t.task_arn == failed_task and t.last_status == "STOPPED"), None)
    if this is None:
        return None  # ECS does not show the failed task stopped yet: too early to judge anything by
    failed = [t for t in mine if t.failed or t is this]
    first = min((t.stopped_at for t in failed if t.stopped_at is not None), default=None)
    # The tasks launched before the deployment's first failure; those launched since replace its failures.
    wave = [t for t in mine if first is None or t.created_at is None or t.created_at < first]
    if any(t.last_status == "STOPPED" and t not in failed for t in wave):
        return None  # a person, a scale-in or Spot stopped one: the wave is not the revision's verdict
    alive = [t for t in wave if t.last_status != "STOPPED"]
    if not alive and len(wave) >= desired:
        return (
            f"every task {_short(failing)} launched for the service's {desired} desired before its first failure "
            f"has failed ({len(wave)} of {len(wave)}): none is left running or starting to prove it"
        )
    # Serving: any task of another revision running, or one of this revision its container health check
    # calls HEALTHY. A failed load-balancer health check with nothing serving is an outage the load balancer
    # itself reports; a crash at start-up beside running siblings is not yet anything (they may come up).
    serving = sum(
        1
        for t in tasks
        if t.last_status == "RUNNING" and (t.task_definition != failing or t.health_status == "HEALTHY")
    )
    lifetimes = [life for life in (t.lived() for t in failed) if life is not None]
    if (
        replaced_healthy
        and this.failed_health_checks
        and serving == 0
        and lifetimes
        and not _outlived(mine, max(lifetimes), now)
    ):
        return (
            f"{_short(failing)} fails its health checks and nothing serves: no task of another revision is "
            f"running and none of its {len(alive)} running tasks has outlived its failures ({len(failed)} so "
            "far): the service is down"
        )
    return None


def _outlived(mine: list[TaskSample], longest: timedelta, now: datetime) -> list[TaskSample]:
    """Tasks running, not failing a health check, for longer than the longest-lived failed task lived."""
    return [
        t
        for t in mine
        if t.last_status == "RUNNING"
        and t.health_status != "UNHEALTHY"
        and t.started_at is not None
        and now - t.started_at > longest
    ]


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min"


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
