"""Why the watchdog does not act when an incident's cause is not in the revision (pure).

A rollback changes one thing: the task definition revision. When the cause lives in the service's
configuration or in the platform, rolling back fixes nothing and costs a deployment, so the decision
notifies instead and says what to look at.
"""

from __future__ import annotations

from ecs_watchdog.classify.categories import CATEGORIES, CONFIGURATION, PLATFORM
from ecs_watchdog.incidents.model import Incident


def not_the_revision(incident: Incident) -> str:
    """The reason given for notifying only: where the cause lives and, for a configuration cause, the
    exact setting to check."""
    category = CATEGORIES.get(incident.category or "")
    if incident.cause == CONFIGURATION:
        setting = category.setting if category and category.setting else "the service's configuration"
        return (
            f"the cause ({incident.category}) is in the service's configuration, not in the revision: every "
            f"revision uses the same configuration, so a rollback would not fix it; check {setting}"
        )
    if incident.cause == PLATFORM:
        return (
            f"the cause ({incident.category}) is in the platform (capacity, provisioning, host health or rate "
            "limits), not in the revision: a rollback would not fix it; the service scheduler keeps replacing "
            "the tasks"
        )
    return "the cause is not known well enough to act on the service automatically"
