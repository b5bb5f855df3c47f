"""The scheduled sweep's judgement of one service as DescribeServices shows it. Pure.

Events miss loops that began before the watchdog was installed or went quiet. The sweep looks at every
service: deployments IN_PROGRESS past the threshold, several IN_PROGRESS at once, running 0 with desired
> 0, failed tasks climbing, the circuit breaker off. What the engine should act on becomes synthetic
ECS events (ids `sweep-...`) that go through the same `Pipeline.process` as real ones: the engine's
own dedupe (duplicate deployment events, active incidents) keeps a repeated sweep from repeating itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ecs_watchdog.events import DeploymentStateChangeEvent, EcsEvent, ServiceActionEvent
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef

# A service whose first tasks are still starting has no running task yet: give it this long.
NOT_RUNNING_GRACE = timedelta(minutes=10)


class SweepFlag(StrEnum):
    STUCK_DEPLOYMENT = "stuck_deployment"
    OVERLAPPING_DEPLOYMENTS = "overlapping_deployments"
    NOT_RUNNING = "not_running"  # running 0 with desired > 0
    FAILED_TASKS_CLIMBING = "failed_tasks_climbing"
    CIRCUIT_BREAKER_OFF = "circuit_breaker_off"  # advice: reported, never an incident by itself


@dataclass(frozen=True)
class DescribedDeployment:
    """One deployment of a service as DescribeServices shows it."""

    id: str
    status: str  # PRIMARY | ACTIVE
    rollout_state: str | None  # IN_PROGRESS | COMPLETED | FAILED
    task_definition: str
    created_at: datetime | None
    failed_tasks: int = 0
    running_count: int = 0


@dataclass(frozen=True)
class DescribedService:
    """What the sweep needs of one service."""

    arn: str
    cluster_arn: str
    desired_count: int
    running_count: int
    deployments: tuple[DescribedDeployment, ...]
    circuit_breaker: bool | None  # None: not an ECS-controlled rolling deployment (no breaker applies)

    @property
    def ref(self) -> ServiceRef | None:
        return ServiceRef.from_arn(self.arn, self.cluster_arn)

    def in_progress(self) -> list[DescribedDeployment]:
        return [d for d in self.deployments if d.rollout_state == "IN_PROGRESS"]


@dataclass(frozen=True)
class SweepFinding:
    flag: SweepFlag
    detail: str
    deployment_id: str | None = None


@dataclass(frozen=True)
class ServiceSweep:
    """The sweep's findings on one service, and the synthetic events the pipeline should process."""

    service: DescribedService
    findings: tuple[SweepFinding, ...]
    events: tuple[EcsEvent, ...]


def sweep_service(service: DescribedService, now: datetime, policy: LoopPolicy) -> ServiceSweep:
    """Flag what is wrong with a service and say which engine inputs it calls for.

    A stuck or overlapping deployment becomes `SERVICE_DEPLOYMENT_IN_PROGRESS` of that deployment, stamped
    with its creation time (the engine then sees how long it has run, and the next timer check opens the
    stuck incident); a service that cannot run a task becomes `SERVICE_TASK_START_IMPAIRED`."""
    ref = service.ref
    if ref is None:
        return ServiceSweep(service, (), ())
    findings: list[SweepFinding] = []
    events: list[EcsEvent] = []
    running = service.in_progress()
    for deployment in running:
        if deployment.created_at and now - deployment.created_at > policy.stuck_deployment_after:
            minutes = int((now - deployment.created_at).total_seconds() // 60)
            findings.append(SweepFinding(SweepFlag.STUCK_DEPLOYMENT, f"IN_PROGRESS for {minutes} min", deployment.id))
            events.append(_deployment_in_progress(ref, service, deployment, now))
    if len(running) > 1:
        ids = ", ".join(d.id for d in running)
        findings.append(SweepFinding(SweepFlag.OVERLAPPING_DEPLOYMENTS, f"{len(running)} IN_PROGRESS: {ids}"))
        newest = max(running, key=lambda d: d.created_at.timestamp() if d.created_at else 0.0)
        if not any(e.id == _event_id("deployment", ref, newest.id) for e in events):
            events.append(_deployment_in_progress(ref, service, newest, now))
    primary = next((d for d in service.deployments if d.status == "PRIMARY"), None)
    impaired: list[str] = []
    if service.desired_count > 0 and service.running_count == 0:
        started = primary.created_at if primary else None
        if primary is not None and (primary.failed_tasks or (started and now - started > NOT_RUNNING_GRACE)):
            detail = f"running 0 of desired {service.desired_count}"
            findings.append(SweepFinding(SweepFlag.NOT_RUNNING, detail, primary.id))
            impaired.append(detail)
    for deployment in running:
        if deployment.failed_tasks >= policy.failure_threshold:
            detail = f"{deployment.failed_tasks} failed tasks in deployment {deployment.id}"
            findings.append(SweepFinding(SweepFlag.FAILED_TASKS_CLIMBING, detail, deployment.id))
            impaired.append(detail)
    if service.circuit_breaker is False:
        findings.append(SweepFinding(SweepFlag.CIRCUIT_BREAKER_OFF, "deployment circuit breaker is off"))
    if impaired:
        events.append(_start_impaired(ref, service, now, "; ".join(impaired)))
    return ServiceSweep(service, tuple(findings), tuple(events))


def _event_id(kind: str, ref: ServiceRef, suffix: str) -> str:
    return f"sweep-{kind}-{ref.key}-{suffix}"


def _envelope(
    detail_type: str,
    event_id: str,
    ref: ServiceRef,
    service: DescribedService,
    now: datetime,
    detail: dict[str, object],
) -> dict[str, object]:
    """An EventBridge envelope as ECS would send it about this service, made by the sweep."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": ref.account,
        "time": now,
        "region": ref.region,
        "resources": [service.arn],
        "detail": detail,
    }


def _deployment_in_progress(
    ref: ServiceRef, service: DescribedService, deployment: DescribedDeployment, now: datetime
) -> DeploymentStateChangeEvent:
    detail = {
        "eventType": "INFO",
        "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
        "deploymentId": deployment.id,
        "updatedAt": deployment.created_at or now,
        "reason": "seen IN_PROGRESS by the watchdog's sweep",
    }
    event_id = _event_id("deployment", ref, deployment.id)
    return DeploymentStateChangeEvent.model_validate(
        _envelope("ECS Deployment State Change", event_id, ref, service, now, detail)
    )


def _start_impaired(ref: ServiceRef, service: DescribedService, now: datetime, reason: str) -> ServiceActionEvent:
    detail = {
        "eventType": "WARN",
        "eventName": "SERVICE_TASK_START_IMPAIRED",
        "clusterArn": service.cluster_arn,
        "createdAt": now,
        "reason": f"the watchdog's sweep: {reason}",
    }
    event_id = _event_id("impaired", ref, now.strftime("%Y%m%dT%H%M"))
    return ServiceActionEvent.model_validate(_envelope("ECS Service Action", event_id, ref, service, now, detail))
