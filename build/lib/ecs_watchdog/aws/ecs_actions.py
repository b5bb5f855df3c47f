"""ECS and Application Auto Scaling calls containment makes, and the fresh service view it decides on.

Every write goes through `make(ApiCall)`, so the audit records exactly what was sent and a dry-run
adapter (`dry_run=True`) can return each call it would make while making none. Reads are made in
both modes: deciding needs them, and they change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aws_lambda_powertools import Logger
from botocore import xform_name
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from ecs_watchdog.contain.models import (
    ECS_CONTROLLER,
    ApiCall,
    CallOutcomeUnknown,
    CallRefused,
    DeploymentView,
    ScalingView,
    ServiceView,
)

logger = Logger(child=True)

# ECS refuses StopServiceDeployment with these when the deployment cannot be stopped (already
# rolling back, not stoppable, or the feature unavailable): the decision's fallback handles them.
REFUSALS = frozenset({"ConflictException", "UnsupportedFeatureException"})
# ContinueServiceDeployment works only while the hook awaits action and the deployment is IN_PROGRESS; ECS
# refuses a hook answered already, expired or rolled back with InvalidParameterException (the parameters it
# checks are ECS's own, from the hook event), a deployment that is gone with ServiceDeploymentNotFound, and
# a Region without the feature with UnsupportedFeatureException (botocore's model lists the six errors; the
# other three — AccessDenied, ClientException, ServerException — are not refusals: they propagate).
REFUSALS_BY_OPERATION = {
    "ContinueServiceDeployment": frozenset(
        {"InvalidParameterException", "ServiceDeploymentNotFoundException", "UnsupportedFeatureException"}
    ),
}
DESCRIBE_DEPLOYMENTS_MAX_ARNS = 20
SERVICE_DIMENSION = "ecs:service:DesiredCount"
ALL_SUSPENDED = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}


class EcsActions:
    """Containment's adapter over an ECS client and an Application Auto Scaling client."""

    def __init__(self, ecs_client: Any, autoscaling_client: Any, *, dry_run: bool = False) -> None:
        self._clients = {"ecs": ecs_client, "application-autoscaling": autoscaling_client}
        self.dry_run = dry_run

    # --- writes -----------------------------------------------------------------------------------

    def make(self, call: ApiCall) -> None:
        """Make one call (nothing in dry-run). Raises CallRefused for a refusal a fallback can handle,
        CallOutcomeUnknown when the answer was lost (the call may have been applied); any other error —
        an answer saying it was not applied — propagates."""
        if self.dry_run:
            logger.info("dry-run: not making the call", extra={"operation": call.operation, "params": call.params})
            return
        method = getattr(self._clients[call.service], xform_name(call.operation))
        try:
            method(**call.params)
        except (ReadTimeoutError, ConnectionClosedError) as error:  # sent, never answered
            raise CallOutcomeUnknown(call, type(error).__name__) from error
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in REFUSALS_BY_OPERATION.get(call.operation, REFUSALS):
                raise CallRefused(call, code, error.response["Error"].get("Message", "")) from error
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= 500:  # a server error after the SDK's retries: applied or not, nobody says
                raise CallOutcomeUnknown(call, f"{code or 'HTTP'} {status}") from error
            raise

    def stop_service_deployment(self, service_deployment_arn: str) -> ApiCall:
        """Stop a deployment and roll it back (ROLLBACK is the only stop type ECS accepts)."""
        return self._write(
            "ecs", "StopServiceDeployment", {"serviceDeploymentArn": service_deployment_arn, "stopType": "ROLLBACK"}
        )

    def continue_service_deployment(self, service_deployment_arn: str, hook_id: str, action: str) -> ApiCall:
        """Answer a PAUSE lifecycle hook: `action` CONTINUE or ROLLBACK."""
        if action not in ("CONTINUE", "ROLLBACK"):
            raise ValueError(f"action must be CONTINUE or ROLLBACK, not {action!r}")
        return self._write(
            "ecs",
            "ContinueServiceDeployment",
            {"serviceDeploymentArn": service_deployment_arn, "hookId": hook_id, "action": action},
        )

    def update_service(
        self, cluster: str, service: str, *, task_definition: str | None = None, desired_count: int | None = None
    ) -> ApiCall:
        """Set the service's task definition and/or desired count."""
        params: dict[str, Any] = {"cluster": cluster, "service": service}
        if task_definition is not None:
            params["taskDefinition"] = task_definition
        if desired_count is not None:
            params["desiredCount"] = desired_count
        if len(params) == 2:
            raise ValueError("update_service needs a task definition or a desired count")
        return self._write("ecs", "UpdateService", params)

    def tag_service(self, service_arn: str, tags: dict[str, str]) -> ApiCall:
        """Add or overwrite tags on the service."""
        return self._write(
            "ecs",
            "TagResource",
            {"resourceArn": service_arn, "tags": [{"key": k, "value": v} for k, v in tags.items()]},
        )

    def suspend_scaling(self, resource_id: str) -> ApiCall:
        """Suspend every kind of scaling on the service's scalable target (`service/<cluster>/<name>`)."""
        return self._write(
            "application-autoscaling",
            "RegisterScalableTarget",
            {
                "ServiceNamespace": "ecs",
                "ResourceId": resource_id,
                "ScalableDimension": SERVICE_DIMENSION,
                "SuspendedState": dict(ALL_SUSPENDED),
            },
        )

    def restore_scaling(self, scaling: ScalingView) -> ApiCall:
        """Put the scalable target's suspended state back as it was recorded."""
        return self._write(
            "application-autoscaling",
            "RegisterScalableTarget",
            {
                "ServiceNamespace": "ecs",
                "ResourceId": scaling.resource_id,
                "ScalableDimension": SERVICE_DIMENSION,
                "SuspendedState": scaling.suspended_state(),
            },
        )

    def _write(self, aws_service: str, operation: str, params: dict[str, Any]) -> ApiCall:
        call = ApiCall(service=aws_service, operation=operation, params=params)
        self.make(call)
        return call

    # --- reads ------------------------------------------------------------------------------------

    def list_service_deployments(self, cluster: str, service: str, status: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Every service deployment brief, newest first as ECS lists them (follows nextToken: the
        operation has no paginator)."""
        params: dict[str, Any] = {"cluster": cluster, "service": service}
        if status:
            params["status"] = list(status)
        briefs: list[dict[str, Any]] = []
        while True:
            page = self._clients["ecs"].list_service_deployments(**params)
            briefs += page.get("serviceDeployments", [])
            if not page.get("nextToken"):
                return briefs
            params["nextToken"] = page["nextToken"]

    def describe_service_deployments(self, arns: Iterable[str]) -> list[dict[str, Any]]:
        """Full service deployments, 20 ARNs per call (the API's limit). Failures are logged."""
        wanted = list(arns)
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), DESCRIBE_DEPLOYMENTS_MAX_ARNS):
            chunk = wanted[start : start + DESCRIBE_DEPLOYMENTS_MAX_ARNS]
            response = self._clients["ecs"].describe_service_deployments(serviceDeploymentArns=chunk)
            found += response.get("serviceDeployments", [])
            if response.get("failures"):
                logger.warning("some service deployments not described", extra={"failures": response["failures"]})
        return found

    def describe_service_view(self, cluster: str, service: str) -> ServiceView | None:
        """The service as containment decides on it; None when ECS does not know it.

        The IN_PROGRESS service deployment's ARN comes from DescribeServices' `currentServiceDeployment`
        or else ListServiceDeployments; when neither says, it stays None and a rollback uses UpdateService.
        """
        try:
            response = self._clients["ecs"].describe_services(cluster=cluster, services=[service], include=["TAGS"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ClusterNotFoundException":
                return None
            raise
        if not response.get("services"):
            return None
        described = response["services"][0]
        deployments = tuple(_deployment(d) for d in described.get("deployments", []))
        controller = (described.get("deploymentController") or {}).get("type", ECS_CONTROLLER)
        current_arn = described.get("currentServiceDeployment")
        in_progress_arn = None
        if controller == ECS_CONTROLLER and any(d.rollout_state == "IN_PROGRESS" for d in deployments):
            in_progress_arn = self._in_progress_arn(cluster, service)
        return ServiceView(
            cluster=cluster,
            service=service,
            service_arn=described["serviceArn"],
            desired_count=described.get("desiredCount", 0),
            running_count=described.get("runningCount", 0),
            task_definition=described.get("taskDefinition", ""),
            deployment_controller=controller,
            launch_type=described.get("launchType"),
            deployments=deployments,
            tags={t["key"]: t["value"] for t in described.get("tags", [])},
            current_service_deployment_arn=current_arn,
            in_progress_service_deployment_arn=in_progress_arn,
            scaling=self.scalable_target(f"service/{cluster}/{service}"),
        )

    def inactive_task_definitions(self, arns: list[str]) -> frozenset[str]:
        """Which of these task definitions are deregistered (INACTIVE) or gone: ECS updates no service to one.
        A task definition is immutable once registered, but its status is not: described every time."""
        inactive: set[str] = set()
        for arn in arns:
            try:
                described = self._clients["ecs"].describe_task_definition(taskDefinition=arn)["taskDefinition"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ClientException":  # "unable to describe": gone
                    inactive.add(arn)
                    continue
                raise
            if described.get("status") == "INACTIVE":
                inactive.add(arn)
        return frozenset(inactive)

    def scalable_target(self, resource_id: str) -> ScalingView | None:
        """The service's scalable target, when Application Auto Scaling manages it."""
        targets = self._clients["application-autoscaling"].describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource_id], ScalableDimension=SERVICE_DIMENSION
        )["ScalableTargets"]
        if not targets:
            return None
        target = targets[0]
        suspended = target.get("SuspendedState") or {}
        return ScalingView(
            resource_id=resource_id,
            min_capacity=target["MinCapacity"],
            max_capacity=target["MaxCapacity"],
            dynamic_scaling_in_suspended=suspended.get("DynamicScalingInSuspended", False),
            dynamic_scaling_out_suspended=suspended.get("DynamicScalingOutSuspended", False),
            scheduled_scaling_suspended=suspended.get("ScheduledScalingSuspended", False),
        )

    def _in_progress_arn(self, cluster: str, service: str) -> str | None:
        try:
            briefs = self.list_service_deployments(cluster, service, status=["IN_PROGRESS"])
        except ClientError as error:
            # Without the ARN the decision rolls back with UpdateService instead: say why, do not fail.
            logger.warning("cannot list service deployments", extra={"service": service, "error": str(error)})
            return None
        return str(briefs[0]["serviceDeploymentArn"]) if briefs else None


def _deployment(d: dict[str, Any]) -> DeploymentView:
    return DeploymentView(
        id=d["id"],
        task_definition=d["taskDefinition"],
        status=d.get("status", ""),
        rollout_state=d.get("rolloutState"),
        desired_count=d.get("desiredCount", 0),
        running_count=d.get("runningCount", 0),
        failed_tasks=d.get("failedTasks", 0),
        created_at=d.get("createdAt"),
    )
