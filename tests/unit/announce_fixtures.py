"""Transitions for the message tests: every incident kind, every transition, with and without containment.

`action`, `probes` and `stopped_task` are the optional attributes containment and diagnosis attach to a
transition (see announce/content.py for their shape); they are set with model_copy as the lead's fields will be.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ecs_watchdog.incidents.model import (
    Explanation,
    Incident,
    IncidentKind,
    IncidentStatus,
    Transition,
    TransitionKind,
)
from ecs_watchdog.incidents.service_ref import ServiceRef

REF = ServiceRef(account="123456789012", region="us-east-1", cluster="prod", name="api")
AT = datetime(2025, 7, 21, 8, 3, tzinfo=UTC)
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:6"
LAST_KNOWN_GOOD = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:5"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/0f2b1c8e9d6a4b3c8e7f6a5b4c3d2e1f"

# (incident kind, its category, a summary, the verbatim evidence, next steps, runbook)
KINDS: dict[IncidentKind, tuple[str | None, str, list[str], list[str]]] = {
    IncidentKind.FAILING_DEPLOYMENT: (
        "image",
        "3 failures of api:6, which has never been healthy (threshold 3)",
        [
            "stopCode: TaskFailedToStart",
            "stoppedReason: CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            "failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v2.4.1: not found",
        ],
        ["Check that the tag v2.4.1 exists in the repository", "Check the task execution role can pull from ECR"],
    ),
    IncidentKind.CRASH_LOOP: (
        "oom",
        "4 tasks of api:6 killed for memory in 15 minutes; it was healthy at 07:40",
        ["container app: exitCode 137", "reason: OutOfMemoryError: Container killed due to memory usage"],
        ["Compare memory use with the task's hard limit (512 MiB)", "Look for a leak in the last change"],
    ),
    IncidentKind.DETERMINISTIC: (
        "secret",
        "the secret prod/api/db does not exist: every task of api:6 will fail (probe confirmed)",
        [
            "stoppedReason: ResourceInitializationError: unable to pull secrets or registry auth: "
            "retrieve secret from asm: ResourceNotFoundException"
        ],
        ["Create the secret, or fix its name in the task definition"],
    ),
    IncidentKind.START_IMPAIRED: (
        "placement",
        "ECS reports SERVICE_TASK_START_IMPAIRED: tasks cannot be placed",
        ["(service api) is unable to consistently start tasks successfully."],
        ["Check cluster capacity and the capacity provider's scaling"],
    ),
    IncidentKind.STUCK_DEPLOYMENT: (
        None,
        "deployment ecs-svc/1 of api:6 IN_PROGRESS for 45 minutes (limit 30)",
        [],
        ["Look at the service events for why tasks do not become healthy"],
    ),
    IncidentKind.OVERLAPPING_DEPLOYMENTS: (
        None,
        "2 deployments IN_PROGRESS at once (ecs-svc/1, ecs-svc/2)",
        [],
        ["Let one deployment finish before starting the next"],
    ),
    IncidentKind.CONFIGURATION_FAILURE: (
        "log_group",
        "ECS cannot configure tasks of api:6: its log group does not exist",
        [
            "stoppedReason: ResourceInitializationError: failed to validate logger args: "
            "The specified log group does not exist"
        ],
        ["Create the log group /ecs/api, or let the task create it (awslogs-create-group)"],
    ),
    IncidentKind.CORRELATED: (
        "image",
        "6 services opened incidents for image within 10 minutes: containment is held back",
        [],
        ["Check the registry and the account's pull permissions first: one cause, many services"],
    ),
}

SUMMARIES = {
    TransitionKind.OPENED: None,  # the kind's own summary
    TransitionKind.CONTAINED: "rolled back to api:5; tasks of api:5 running",
    TransitionKind.RESOLVED: "deployment completed (api:5); no failures for 15 minutes",
    TransitionKind.REOPENED: "failing again 10 minutes after it resolved: 3 more failures of api:6",
    TransitionKind.CLOSED: "no failures for 24 hours after it resolved",
}
STATUSES = {
    TransitionKind.OPENED: IncidentStatus.OPEN,
    TransitionKind.CONTAINED: IncidentStatus.CONTAINED,
    TransitionKind.RESOLVED: IncidentStatus.RESOLVED,
    TransitionKind.REOPENED: IncidentStatus.OPEN,
    TransitionKind.CLOSED: IncidentStatus.CLOSED,
}


def transition(kind: IncidentKind, transition_kind: TransitionKind) -> Transition:
    """A realistic transition of one incident kind."""
    category, summary, evidence, steps = KINDS[kind]
    incident = Incident(
        id=f"api-20250721T080300Z-{list(KINDS).index(kind) + 1}",
        service=REF.key,
        kind=kind,
        status=STATUSES[transition_kind],
        category=category,
        task_definition=TASK_DEFINITION,
        deployment_id="ecs-svc/1" if kind in (IncidentKind.FAILING_DEPLOYMENT, IncidentKind.STUCK_DEPLOYMENT) else None,
        last_known_good=LAST_KNOWN_GOOD,
        opened_at=AT,
        updated_at=AT + timedelta(minutes=7),
        failures=3 if category else 0,
        categories={category: 3} if category else {},
        containment_eligible=kind != IncidentKind.CORRELATED,
    )
    opened = transition_kind in (TransitionKind.OPENED, TransitionKind.REOPENED)
    return Transition(
        id=f"{incident.id}/2-{transition_kind}",
        kind=transition_kind,
        incident=incident,
        at=AT + timedelta(minutes=0 if transition_kind == TransitionKind.OPENED else 7),
        summary=SUMMARIES[transition_kind] or summary,
        explanation=Explanation(evidence=evidence, next_steps=steps, runbook=f"docs/runbooks/{category}.md")
        if opened and (evidence or steps)
        else None,
    )


DRY_RUN_ACTION: dict[str, Any] = {
    "kind": "rollback_deployment",
    "dry_run": True,
    "call": {
        "operation": "StopServiceDeployment",
        "params": {
            "serviceDeploymentArn": "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/api/ecs-svc-1",
            "stopType": "ROLLBACK",
        },
    },
    "reason": "api:6 has never been healthy and api:5 was healthy 2 hours ago",
    "before": {"task_definition": TASK_DEFINITION, "desired_count": 4, "running_count": 1},
    "after": {"task_definition": LAST_KNOWN_GOOD, "desired_count": 4, "running_count": 4},
}
ENFORCED_ACTION: dict[str, Any] = {
    **DRY_RUN_ACTION,
    "kind": "scale_to_zero",
    "dry_run": False,
    "call": {"operation": "UpdateService", "params": {"cluster": "prod", "service": "api", "desiredCount": 0}},
    "reason": "no healthy revision to roll back to; the service's tag allows scale-to-zero",
    "after": {"task_definition": TASK_DEFINITION, "desired_count": 0, "running_count": 0},
}
PROBES: list[dict[str, str]] = [
    {"name": "image_exists", "status": "confirmed", "summary": "tag v2.4.1 not found in repository api"},
    {"name": "execution_role_can_pull", "status": "refuted", "summary": "ecr:BatchGetImage is allowed"},
]
STOPPED_TASK: dict[str, str] = {
    "task_arn": TASK_ARN,
    "container": "app",
    "log_group": "/ecs/api",
    "log_stream": "ecs/app/0f2b1c8e9d6a4b3c8e7f6a5b4c3d2e1f",
}


def with_containment(base: Transition, action: dict[str, Any]) -> Transition:
    """The transition with an action, probe results and the stopped task attached."""
    return base.model_copy(update={"action": action, "probes": PROBES, "stopped_task": STOPPED_TASK})


def all_cases() -> dict[str, Transition]:
    """Every incident kind x transition, plus the opening with a dry-run and an enforced action."""
    cases = {f"{kind}-{tk}": transition(kind, tk) for kind in KINDS for tk in TransitionKind}
    opened = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
    cases["failing_deployment-opened-dry_run"] = with_containment(opened, DRY_RUN_ACTION)
    cases["failing_deployment-opened-enforced"] = with_containment(opened, ENFORCED_ACTION)
    return cases
