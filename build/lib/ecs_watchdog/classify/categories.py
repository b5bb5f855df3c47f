"""The fixed category vocabulary: alerts, metrics, tags and tests use these names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """A root-cause category: its stable name, whether it is a failure, and a short human title."""

    name: str
    failure: bool
    title: str


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("image", True, "Image reference or content is wrong"),
        Category("network", True, "Task could not reach what it needs"),
        Category("secrets", True, "Secrets or parameters could not be fetched or parsed"),
        Category("logging", True, "Log driver could not start"),
        Category("task_definition", True, "Task definition is unusable"),
        Category("container_exit", True, "Essential container exited"),
        Category("oom", True, "Container ran out of memory"),
        Category("health_check_elb", True, "Load balancer health check failed"),
        Category("health_check_container", True, "Container health check failed"),
        Category("storage", True, "Volume or storage failure"),
        Category("capacity", True, "No capacity to place or start the task"),
        Category("runtime", True, "Container runtime or agent error"),
        Category("infrastructure", False, "Stopped by the platform"),
        Category("scaling", False, "Stopped by the service scheduler"),
        Category("user", False, "Stopped by a person or tool"),
        # Added after the first 16: a standalone task (not a service's) whose work is done.
        Category("completed", False, "Task ran to completion"),
        Category("unknown", True, "Unrecognised stop reason"),
    )
}

FAILURE_CATEGORIES = frozenset(name for name, c in CATEGORIES.items() if c.failure)
BENIGN_CATEGORIES = frozenset(name for name, c in CATEGORIES.items() if not c.failure)


def runbook_path(category: str) -> str:
    """The repository path of the runbook for a category."""
    return f"docs/runbooks/{category}.md"
