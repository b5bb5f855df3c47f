"""Infrastructure incidents: trouble in a cluster's platform, told once per cluster, never rolled back (pure).

A rollback changes only the revision. When tasks fail for a platform cause (capacity, network interface
or storage provisioning, rate limits, host health: incidents/causes.py) or a container instance reports
itself IMPAIRED (`ECS Container Instance Health Change`), no change to a service fixes it. So such
trouble never counts toward a service's failure loop; it goes to one incident per cluster, kept in the
account's item beside the correlated-failure guard (docs/state.md):

- opened when `threshold` platform failures land in the cluster within the crash-loop window, or at once
  when an instance turns IMPAIRED; it names the services affected (the ones whose tasks failed, and the
  ones with tasks on the impaired instance) — one message;
- later failures and instances add to it silently (the count updates, no new message);
- resolved when no instance is impaired any more and no platform failure came for a whole window (an
  instance turning OK, or the next platform failure, checks that) — one message.

Idempotent per task and per instance status, so a redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.classify.categories import PLATFORM
from ecs_watchdog.incidents.model import (
    Incident,
    IncidentKind,
    IncidentStatus,
    TimelineEntry,
    Transition,
    TransitionKind,
)
from ecs_watchdog.incidents.policy import LoopPolicy

MAX_FAILURES = 50  # platform failures kept per cluster: the threshold's worth and the dedupe memory
MAX_NAMED = 20  # services named in a reason; the rest are counted


class PlatformFailure(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    at: datetime
    service: str  # cluster/service
    category: str
    task_id: str


class ImpairedInstance(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    at: datetime
    ec2_instance_id: str | None = None
    services: list[str] = Field(default_factory=list)  # cluster/service of the tasks on it
    checks: list[str] = Field(default_factory=list)  # the failing health checks, as ECS reports them


class ClusterInfrastructure(BaseModel):
    """What the watchdog remembers of one cluster's platform: recent platform failures, impaired
    instances, and the cluster's infrastructure incident (open, or the last one resolved)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    cluster: str
    failures: list[PlatformFailure] = Field(default_factory=list)
    impaired: dict[str, ImpairedInstance] = Field(default_factory=dict)  # container instance ARN → it
    incident: Incident | None = None
    sequence: int = 0


@dataclass
class InfrastructureDecision:
    """The cluster's new memory, the transitions to announce (at most one per call), and why."""

    cluster: ClusterInfrastructure
    transitions: list[Transition] = field(default_factory=list)
    changed: bool = False
    note: str = ""


def apply_platform_failure(
    memory: ClusterInfrastructure,
    account_key: str,
    *,
    service: str,
    category: str,
    task_id: str,
    at: datetime,
    summary: str,
    policy: LoopPolicy,
) -> InfrastructureDecision:
    """Count one failed stop whose cause is the platform's in its cluster's infrastructure incident."""
    new = memory.model_copy(deep=True)
    decision = InfrastructureDecision(new)
    if any(f.task_id == task_id for f in new.failures):
        decision.note = "a platform failure already counted"
        return decision
    decision.changed = True
    _resolve_if_quiet(new, decision, at, policy)
    new.failures = [f for f in new.failures if at - f.at <= policy.crash_loop_window]
    new.failures.append(PlatformFailure(at=at, service=service, category=category, task_id=task_id))
    new.failures = new.failures[-MAX_FAILURES:]
    incident = _open_incident(new)
    if incident is not None:
        _add(incident, service, category, at)
        decision.note = f"a platform failure added to {incident.id}"
        return decision
    threshold = policy.threshold(None)
    if len(new.failures) < threshold:
        decision.note = f"platform failure {len(new.failures)} of {threshold} in cluster {new.cluster}"
        return decision
    services = _unique(f.service for f in new.failures)
    categories = _unique(f.category for f in new.failures)
    minutes = int(policy.crash_loop_window.total_seconds() // 60)
    reason = (
        f"{len(new.failures)} tasks failed within {minutes} min for causes in the platform "
        f"({', '.join(categories)}), not in any revision: {_names(services)}. No rollback fixes this: the "
        f"watchdog does not act on these services for it; the service scheduler keeps replacing the tasks. "
        f"Last: {summary}"
    )
    opened = _open(new, decision, account_key, at, reason, categories[-1])
    for failure in new.failures:
        _add(opened, failure.service, failure.category, failure.at)
    decision.note = f"opened {opened.id}"
    return decision


def apply_instance_health(
    memory: ClusterInfrastructure,
    account_key: str,
    *,
    instance_arn: str,
    ec2_instance_id: str | None,
    status: str,
    services: list[str],
    checks: list[str],
    at: datetime,
    policy: LoopPolicy,
) -> InfrastructureDecision:
    """A container instance's overall health changed: IMPAIRED opens (or adds to) the cluster's
    infrastructure incident; OK may resolve it; INITIALIZING and INSUFFICIENT_DATA change nothing."""
    new = memory.model_copy(deep=True)
    decision = InfrastructureDecision(new)
    if status == "IMPAIRED":
        known = new.impaired.get(instance_arn)
        if known is not None and known.at >= at:
            decision.note = "an impaired instance already known"
            return decision
        decision.changed = True
        new.impaired[instance_arn] = ImpairedInstance(
            at=at, ec2_instance_id=ec2_instance_id, services=services, checks=checks
        )
        label = ec2_instance_id or instance_arn.rsplit("/", 1)[-1]
        incident = _open_incident(new)
        if incident is not None:
            for name in services or [f"{new.cluster}/(no service task)"]:
                _add(incident, name, "infrastructure", at, count=False)
            decision.note = f"impaired instance {label} added to {incident.id}"
            return decision
        failing = f" ({'; '.join(checks)})" if checks else ""
        on_it = _names(services) if services else "no service task runs on it"
        reason = (
            f"container instance {label} is IMPAIRED{failing}. Services with tasks on it: {on_it}. Drain or "
            "replace the instance; no rollback fixes this, and the watchdog does not act on these services for it."
        )
        opened = _open(new, decision, account_key, at, reason, "infrastructure")
        for name in services:
            _add(opened, name, "infrastructure", at, count=False)
        decision.note = f"opened {opened.id}"
        return decision
    if status == "OK":
        if new.impaired.pop(instance_arn, None) is None:
            decision.note = "an instance the watchdog did not know as impaired is OK"
            return decision
        decision.changed = True
        _resolve_if_quiet(new, decision, at, policy)
        decision.note = "the instance is OK again"
        return decision
    decision.note = f"instance health {status}: nothing to do"
    return decision


def _open_incident(memory: ClusterInfrastructure) -> Incident | None:
    incident = memory.incident
    return incident if incident is not None and incident.status is IncidentStatus.OPEN else None


def _resolve_if_quiet(
    memory: ClusterInfrastructure, decision: InfrastructureDecision, at: datetime, policy: LoopPolicy
) -> None:
    """Resolve the open incident when no instance is impaired and no platform failure came for a window."""
    incident = _open_incident(memory)
    if incident is None or memory.impaired:
        return
    last = max((f.at for f in memory.failures), default=None)
    if last is not None and at - last < policy.crash_loop_window:
        return
    incident.status, incident.resolved_at, incident.updated_at = IncidentStatus.RESOLVED, at, at
    decision.transitions.append(
        _transition(
            memory,
            incident,
            TransitionKind.RESOLVED,
            at,
            "no instance is impaired and no task failed for a platform cause for a crash-loop window",
        )
    )


def _open(
    memory: ClusterInfrastructure,
    decision: InfrastructureDecision,
    account_key: str,
    at: datetime,
    reason: str,
    category: str,
) -> Incident:
    memory.sequence += 1
    incident = Incident(
        id=f"cluster-{memory.cluster}-{at:%Y%m%dT%H%M%SZ}-{memory.sequence}",
        service=f"{account_key}/{memory.cluster}/*",
        kind=IncidentKind.INFRASTRUCTURE,
        category=category,
        cause=PLATFORM,
        opened_at=at,
        updated_at=at,
        containment_eligible=False,
        reason=reason,
    )
    memory.incident = incident
    decision.transitions.append(_transition(memory, incident, TransitionKind.OPENED, at, reason))
    return incident


def _add(incident: Incident, service: str, category: str, at: datetime, *, count: bool = True) -> None:
    if count:
        incident.failures += 1
        incident.causes[PLATFORM] = incident.causes.get(PLATFORM, 0) + 1
    incident.categories[category] = incident.categories.get(category, 0) + (1 if count else 0)
    incident.updated_at = max(incident.updated_at, at)
    if service not in affected_services(incident):
        incident.timeline.append(TimelineEntry(at=at, kind="service", detail=service))


def affected_services(incident: Incident) -> list[str]:
    """The services (cluster/service) an infrastructure incident has named, first seen first."""
    return [entry.detail for entry in incident.timeline if entry.kind == "service"]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _names(services: list[str]) -> str:
    shown = services[:MAX_NAMED]
    more = f" and {len(services) - len(shown)} more" if len(services) > len(shown) else ""
    return ", ".join(shown) + more


def _transition(
    memory: ClusterInfrastructure, incident: Incident, kind: TransitionKind, at: datetime, why: str
) -> Transition:
    memory.sequence += 1
    return Transition(
        id=f"{incident.id}/{memory.sequence}-{kind}",
        kind=kind,
        incident=incident.model_copy(deep=True),
        at=at,
        summary=why,
    )
