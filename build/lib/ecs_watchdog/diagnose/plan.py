"""Which probes a stop category calls for (pure): the checks that can confirm or rule out its cause."""

from __future__ import annotations

from ecs_watchdog.diagnose.model import ProbeName

_ALL = tuple(ProbeName)
PROBES_BY_CATEGORY: dict[str, tuple[ProbeName, ...]] = {
    "image": (ProbeName.IMAGE, ProbeName.TASK_DEFINITION, ProbeName.NETWORK),
    "secrets": (ProbeName.SECRETS, ProbeName.SECRET_ACCESS, ProbeName.TASK_DEFINITION, ProbeName.NETWORK),
    "logging": (ProbeName.LOGGING, ProbeName.TASK_DEFINITION, ProbeName.NETWORK),
    "task_definition": (ProbeName.TASK_DEFINITION,),
    "network": (ProbeName.NETWORK,),
    "health_check_elb": (ProbeName.LOAD_BALANCER, ProbeName.SERVICE_CONFIGURATION),
    "health_check_container": (ProbeName.SERVICE_CONFIGURATION, ProbeName.TASK_DEFINITION),
    # A crash can be a missing variable or an unreadable secret (seed 000, 003).
    "container_exit": (ProbeName.TASK_DEFINITION, ProbeName.SECRETS, ProbeName.SERVICE_CONFIGURATION),
    "oom": (ProbeName.TASK_DEFINITION,),
    "storage": (ProbeName.TASK_DEFINITION, ProbeName.NETWORK),
    "capacity": (ProbeName.NETWORK, ProbeName.TASK_DEFINITION),
    "runtime": (ProbeName.TASK_DEFINITION,),
    "unknown": _ALL,
    # Benign stops need no diagnosis.
    "infrastructure": (),
    "scaling": (),
    "user": (),
    "completed": (),
}


def probes_for(category: str) -> tuple[ProbeName, ...]:
    """The probes worth running for a stop of this category; every probe for a category not listed."""
    return PROBES_BY_CATEGORY.get(category, _ALL)


# The probes whose `fail` proves a deterministic category's cause (the pipeline's probe_confirms seam).
CONFIRMING_PROBES: dict[str, frozenset[ProbeName]] = {
    "image": frozenset({ProbeName.IMAGE}),
    "secrets": frozenset({ProbeName.SECRETS, ProbeName.SECRET_ACCESS}),
    "logging": frozenset({ProbeName.LOGGING}),
    "task_definition": frozenset({ProbeName.TASK_DEFINITION}),
}


def confirming_probes(category: str) -> frozenset[ProbeName]:
    """The probes that can confirm a category's cause; empty when no probe can."""
    return CONFIRMING_PROBES.get(category, frozenset())
