"""Builders for containment tests: an incident, a freshly described service, guard facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.contain.guards import GuardFacts
from ecs_watchdog.contain.models import DeploymentView, ScalingView, ServiceView
from ecs_watchdog.incidents.model import Incident, IncidentKind

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CLUSTER, SERVICE = "prod", "api"
SERVICE_ARN = f"arn:aws:ecs:us-east-1:123456789012:service/{CLUSTER}/{SERVICE}"
DEPLOYMENT_ARN = f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/{SERVICE}/abc123"


def td(revision: int) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task-definition/api:{revision}"


def incident(revision: int = 6, **changes: object) -> Incident:
    values: dict[str, object] = {
        "id": "inc-1",
        "service": f"123456789012/us-east-1/{CLUSTER}/{SERVICE}",
        "kind": IncidentKind.FAILING_DEPLOYMENT,
        "category": "image",
        "task_definition": td(revision),
        "opened_at": NOW - timedelta(minutes=5),
        "updated_at": NOW - timedelta(minutes=1),
        "failures": 3,
    }
    values.update(changes)
    return Incident.model_validate(values)


def deployment(revision: int, *, running: int, status: str, rollout: str, failed: int = 0) -> DeploymentView:
    return DeploymentView(
        id=f"ecs-svc/{revision}",
        task_definition=td(revision),
        status=status,
        rollout_state=rollout,
        desired_count=2,
        running_count=running,
        failed_tasks=failed,
    )


def deploying(*, old_running: int, new_running: int = 0, arn: str | None = DEPLOYMENT_ARN) -> ServiceView:
    """Revision 6 rolling out over revision 5."""
    return view(
        deployment(6, running=new_running, status="PRIMARY", rollout="IN_PROGRESS", failed=3),
        deployment(5, running=old_running, status="ACTIVE", rollout="COMPLETED"),
        arn=arn,
    )


def steady(*, running: int, revision: int = 6) -> ServiceView:
    """Only revision `revision`, its deployment completed."""
    return view(deployment(revision, running=running, status="PRIMARY", rollout="COMPLETED", failed=3))


def view(
    *deployments: DeploymentView,
    arn: str | None = None,
    desired: int = 2,
    controller: str = "ECS",
    tags: dict[str, str] | None = None,
    scaling: ScalingView | None = None,
) -> ServiceView:
    primary = next(d for d in deployments if d.status == "PRIMARY")
    return ServiceView(
        cluster=CLUSTER,
        service=SERVICE,
        service_arn=SERVICE_ARN,
        desired_count=desired,
        running_count=sum(d.running_count for d in deployments),
        task_definition=primary.task_definition,
        deployment_controller=controller,
        deployments=deployments,
        tags=tags or {},
        in_progress_service_deployment_arn=arn,
        scaling=scaling,
    )


def facts(**changes: object) -> GuardFacts:
    return GuardFacts.model_validate({"now": NOW, **changes})
