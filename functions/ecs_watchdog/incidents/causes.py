"""Where a failure's cause lives, as the incident engine judges it (pure).

The classifier says where a stop's cause usually lives (classify/categories.py: revision, configuration
or platform). One judgement needs the service's history, so it is made here: a load balancer health check
that the last known good revision passed and a new revision fails is the new revision's fault (seed 004:
the same target group, the same check, only the revision changed), so it is contained like any revision
cause. Without a last known good, or on the last known good itself, a failing health check is the
configuration's: rolling back cannot fix a check every revision fails.
"""

from __future__ import annotations

from ecs_watchdog.classify.categories import CATEGORIES, CONFIGURATION, PLATFORM, REVISION

# Categories whose configuration cause becomes the revision's when only the revision changed.
CHECKED_BY_THE_LAST_KNOWN_GOOD = frozenset({"health_check_elb"})


def stop_cause(category: str, cause: str | None, task_definition: str, last_known_good: str | None) -> str | None:
    """Where the cause of one failed stop lives, given the revision it ran and the service's last known good."""
    cause = cause if cause is not None else default_cause(category)
    if (
        cause == CONFIGURATION
        and category in CHECKED_BY_THE_LAST_KNOWN_GOOD
        and last_known_good is not None
        and task_definition != last_known_good
    ):
        return REVISION
    return cause


def default_cause(category: str | None) -> str | None:
    """Where a category's cause usually lives (state written before causes were recorded has only this)."""
    found = CATEGORIES.get(category or "")
    return found.cause if found else None


def incident_cause(causes: dict[str, int]) -> str | None:
    """Where an incident's cause lives, from its counted failures: the revision when any failure is the
    revision's (rolling back can fix those), else the configuration, else the platform; None when unknown."""
    for cause in (REVISION, CONFIGURATION, PLATFORM):
        if causes.get(cause):
            return cause
    return None


def is_platform(cause: str | None) -> bool:
    """A platform cause never counts toward an application's failure loop on its own."""
    return cause == PLATFORM
