"""The fixed category vocabulary: alerts, metrics, tags and tests use these names.

Each category also says where its cause usually lives, because that decides what acting can fix: a
rollback changes only the task definition revision.
- `revision`: in what the revision brings (image, secrets, logging, task definition, the application's
  own exit) — rolling back to the last known good fixes it;
- `configuration`: in the service's configuration (health check, network configuration, load balancer)
  — the same for every revision, so people are told which setting to check;
- `platform`: in the platform (capacity, host or instance health, provisioning, rate limits, Spot) — no
  change to the service fixes it, and it never counts toward an application's failure loop.
A rule in rules.toml may name another cause for its own texts (`cause = ...`): a network interface that
timed out attaching is the platform's, a subnet without a route is the configuration's.
"""

from __future__ import annotations

from dataclasses import dataclass

REVISION = "revision"
CONFIGURATION = "configuration"
PLATFORM = "platform"
CAUSES = (REVISION, CONFIGURATION, PLATFORM)


@dataclass(frozen=True)
class Category:
    """A root-cause category: its stable name, whether it is a failure, a short human title, where its
    cause usually lives (None: not known, or nothing failed) and, for a configuration cause, the setting
    to check."""

    name: str
    failure: bool
    title: str
    cause: str | None = None
    setting: str = ""


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("image", True, "Image reference or content is wrong", REVISION),
        Category(
            "network",
            True,
            "Task could not reach what it needs",
            CONFIGURATION,
            "the service's networkConfiguration.awsvpcConfiguration (subnets and their route tables, "
            "securityGroups, assignPublicIp) and the VPC endpoints it relies on",
        ),
        Category("secrets", True, "Secrets or parameters could not be fetched or parsed", REVISION),
        Category("logging", True, "Log driver could not start", REVISION),
        Category("task_definition", True, "Task definition is unusable", REVISION),
        Category("container_exit", True, "Essential container exited", REVISION),
        Category("oom", True, "Container ran out of memory", REVISION),
        Category(
            "health_check_elb",
            True,
            "Load balancer health check failed",
            CONFIGURATION,
            "the target group's health check (path, port, matcher, thresholds), the service's "
            "healthCheckGracePeriodSeconds and loadBalancers (container name and port), and the security "
            "group rule from the load balancer to the container port",
        ),
        Category("health_check_container", True, "Container health check failed", REVISION),
        Category("storage", True, "Volume or storage failure", REVISION),
        Category("capacity", True, "No capacity to place or start the task", PLATFORM),
        Category("runtime", True, "Container runtime or agent error", PLATFORM),
        Category("infrastructure", False, "Stopped by the platform", PLATFORM),
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
