"""The moto mirror: the scenario's account in moto, and botocore hooks that put the model in charge of ECS.

moto emulates ECS only in part (checked on moto 5.2.5): UpdateService changes desiredCount and the task
definition but never creates a deployment, `deploymentConfiguration` is dropped, services start no
tasks, and ListServiceDeployments / DescribeServiceDeployments / StopServiceDeployment /
ContinueServiceDeployment do not exist. So the scheduler model owns every service, and on the watchdog's
boto3 session a `before-call.ecs` hook routes each ECS operation:

- every state-changing call (UpdateService, StopServiceDeployment, ContinueServiceDeployment, StopTask,
  TagResource, UntagResource, and any other non-read operation) is recorded as an action, then applied
  to the model (or, in dry-run, refused with `DryRunOperation`, so nothing reaches any state);
- reads moto cannot answer from the model's state (tasks, service deployments, service revisions) are
  answered by the hook;
- DescribeServices refreshes moto's copy of the named services first, then moto answers, so the
  watchdog parses a real moto response. The refresh is lazy: the model runs alone between calls.

Everything else (task definitions, secrets, log groups, ECR images, target groups) is plain moto,
created from the scenario's `environment` so that probes see what AWS would show.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.model import OperationModel

from ecs_watchdog.replay.envelopes import (
    ACCOUNT_ID,
    cluster_arn,
    service_arn,
    service_deployment_arn,
    service_revision_arn,
    task_arn,
    task_definition_arn,
)
from ecs_watchdog.replay.scenario import BreakerConfig, Deploy, DeploymentConfig, Scenario, ServiceSpec
from ecs_watchdog.replay.scheduler import DeploymentView, Scheduler, SchedulerCommandError, TaskView

EXECUTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/ecsTaskExecutionRole"
# ECS returns the latest 100 service events; moto spends most of a DescribeServices call serializing
# them, so the mirror copies the latest 20 (still more than a watchdog reads) to keep storms fast.
MIRRORED_SERVICE_MESSAGES = 20
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Read operations the model answers itself (moto lacks them, or lacks the model's tasks).
_ANSWERED_READS = frozenset(
    {
        "ListServiceDeployments",
        "DescribeServiceDeployments",
        "DescribeServiceRevisions",
        "DescribeTasks",
        "ListTasks",
    }
)


@dataclass(frozen=True)
class RecordedAction:
    """A state-changing ECS call that reached a hook."""

    at: float  # simulated seconds
    service: str | None
    action: str  # snake_case operation name, e.g. update_service
    detail: str
    dry_run: bool


def new_session(region: str) -> boto3.Session:
    """A boto3 session with moto's test credentials (only ever used under `moto.mock_aws`)."""
    return boto3.Session(region_name=region, **TEST_CREDENTIALS)


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _last_segment(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


class Mirror:
    """Creates the scenario in moto and keeps moto's ECS services in step with the scheduler model."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler, *, dry_run: bool) -> None:
        """Call `build()` inside `moto.mock_aws()` before installing hooks on a session."""
        self.scenario = scenario
        self.scheduler = scheduler
        self.dry_run = dry_run
        self.actions: list[RecordedAction] = []
        self._session = new_session(scenario.region)
        self._ecs: Any = None
        self._secret_arns: dict[str, str] = {}
        self._target_group_arns: dict[str, str] = {}

    # -- building the account ------------------------------------------------------------------------

    def build(self) -> None:
        """Create environment, cluster, task definitions and services in moto (under mock_aws)."""
        env = self.scenario.environment
        ecr = self._session.client("ecr")
        repositories: set[str] = set()
        for image in env.ecr_images:
            repository, tag = image.split("/", 1)[1].rsplit(":", 1)
            if repository not in repositories:
                ecr.create_repository(repositoryName=repository)
                repositories.add(repository)
            digest = hashlib.sha256(image.encode()).hexdigest()
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{digest}"},
                "layers": [],
            }
            ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        secrets = self._session.client("secretsmanager")
        for name, value in env.secrets:
            self._secret_arns[name] = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        logs = self._session.client("logs")
        for group in env.log_groups:
            logs.create_log_group(logGroupName=group)
        if env.target_groups:
            self._create_target_groups(env.target_groups)
        self._ecs = self._session.client("ecs")
        self._ecs.create_cluster(clusterName=self.scenario.cluster)
        for spec in self.scenario.services:
            self._register_task_definitions(spec)
            self._create_service(spec)
            self.sync(spec.name)

    def _create_target_groups(self, names: tuple[str, ...]) -> None:
        from moto.elbv2.models import elbv2_backends

        ec2 = self._session.client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        elbv2 = self._session.client("elbv2")
        backend = elbv2_backends[ACCOUNT_ID][self.scenario.region]
        for name in names:
            created = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip")
            moto_arn = created["TargetGroups"][0]["TargetGroupArn"]
            # Give moto's copy the ARN that the model writes into ELB health-check stop reasons.
            wanted = self.scheduler.target_group_arn(name)
            group = backend.target_groups.pop(moto_arn)
            group.arn = wanted
            backend.target_groups[wanted] = group
            self._target_group_arns[name] = wanted

    def _secret_arn(self, name: str) -> str:
        # A secret missing from the environment still gets a well-formed ARN: probes find it missing.
        return self._secret_arns.get(name) or (
            f"arn:aws:secretsmanager:{self.scenario.region}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
        )

    def _container_definitions(self, spec: ServiceSpec, number: int) -> list[dict[str, Any]]:
        revision = spec.revision(number)
        definitions = []
        for container in revision.containers:
            definition: dict[str, Any] = {
                "name": container.name,
                "image": revision.image,
                "essential": container.essential,
                "memory": 512,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
            if container.essential and revision.secrets:
                definition["secrets"] = [
                    {"name": env, "valueFrom": self._secret_arn(secret)} for env, secret in revision.secrets
                ]
            if revision.log_group:
                definition["logConfiguration"] = {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": revision.log_group,
                        "awslogs-region": self.scenario.region,
                        "awslogs-stream-prefix": spec.name,
                    },
                }
            definitions.append(definition)
        return definitions

    def _register_task_definitions(self, spec: ServiceSpec) -> None:
        # moto numbers revisions 1, 2, ...: register placeholders for numbers the scenario skips.
        numbers = {r.revision for r in spec.revisions}
        filler = min(numbers)
        for number in range(1, max(numbers) + 1):
            self._ecs.register_task_definition(
                family=spec.name,
                containerDefinitions=self._container_definitions(spec, number if number in numbers else filler),
                executionRoleArn=EXECUTION_ROLE_ARN,
                networkMode="awsvpc",
                requiresCompatibilities=[spec.launch_type],
                cpu="256",
                memory="512",
            )
            if number not in numbers:
                self._ecs.deregister_task_definition(taskDefinition=f"{spec.name}:{number}")

    def _create_service(self, spec: ServiceSpec) -> None:
        # A brand-new service is created in moto with its first deployment's revision (moto needs one).
        deploys = [
            e.action.revision
            for e in self.scenario.timeline
            if isinstance(e.action, Deploy) and e.action.service == spec.name
        ]
        first = spec.running_revision
        if first is None:
            first = deploys[0] if deploys else spec.revisions[0].revision
        revision = spec.revision(first)
        kwargs: dict[str, Any] = {}
        if revision.target_group in self._target_group_arns:
            kwargs["loadBalancers"] = [
                {
                    "targetGroupArn": self._target_group_arns[revision.target_group],
                    "containerName": revision.essential_container.name,
                    "containerPort": 80,
                }
            ]
        self._ecs.create_service(
            cluster=self.scenario.cluster,
            serviceName=spec.name,
            taskDefinition=f"{spec.name}:{first}",
            desiredCount=spec.desired_count,
            launchType=spec.launch_type,
            tags=[{"key": k, "value": v} for k, v in spec.tags],
            **kwargs,
        )

    # -- keeping moto in step ------------------------------------------------------------------------

    def at(self, seconds: float) -> datetime:
        """Wall time of a simulated second."""
        return self.scenario.start_time + timedelta(milliseconds=round(seconds * 1000))

    def sync(self, name: str) -> None:
        """Copy the model's view of one service into moto's ECS backend."""
        from moto.ecs.models import ecs_backends

        view = self.scheduler.service(name)
        region = self.scenario.region
        service = ecs_backends[ACCOUNT_ID][region]._get_service(self.scenario.cluster, name)
        service.desired_count = view.desired_count
        service.running_count = view.running_count
        service.pending_count = view.pending_count
        if view.primary_revision is not None:
            service.task_definition = task_definition_arn(region, name, view.primary_revision)
        # moto drops deploymentConfiguration on create; its serializer returns the attribute when set.
        service.deployment_configuration = _deployment_configuration(view.config)  # type: ignore[attr-defined]
        service.deployments = [self._deployment_dict(name, d) for d in view.deployments]
        service.events = [
            {"id": m.message_id, "createdAt": self.at(m.at), "message": m.message}
            for m in view.messages[:MIRRORED_SERVICE_MESSAGES]
        ]

    def _deployment_dict(self, name: str, d: DeploymentView) -> dict[str, Any]:
        return {
            "id": d.deployment_id,
            "status": d.status,
            "taskDefinition": task_definition_arn(self.scenario.region, name, d.revision),
            "desiredCount": d.desired_count,
            "pendingCount": d.pending_count,
            "runningCount": d.running_count,
            "failedTasks": d.failed_tasks,
            "createdAt": self.at(d.created_at),
            "updatedAt": self.at(d.updated_at),
            "launchType": self.scenario.service(name).launch_type,
            "platformVersion": "1.4.0",
            "platformFamily": "Linux",
            "rolloutState": d.rollout_state,
            "rolloutStateReason": d.rollout_state_reason,
        }

    # -- hooks ---------------------------------------------------------------------------------------

    def install(self, session: boto3.Session) -> None:
        """Register the ECS hooks on the session the watchdog will use (before it creates clients)."""
        session.events.register("before-call.ecs", self._on_ecs_call, unique_id="ecs-watchdog-replay-mirror")

    def _on_ecs_call(
        self, model: OperationModel, params: Mapping[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        operation = model.name
        body = params.get("body") or b"{}"
        request: dict[str, Any] = json.loads(body) if body else {}
        try:
            if operation == "DescribeServices":
                for name in request.get("services", []):
                    if _last_segment(name) in self.scheduler.service_names:
                        self.sync(_last_segment(name))
                return None  # moto answers from the refreshed copy
            if operation in _ANSWERED_READS:
                return _ok(getattr(self, f"_answer_{_snake(operation)}")(request))
            if operation.startswith(("Describe", "List", "Get")):
                return None
            return self._state_change(operation, request)
        except SchedulerCommandError as exc:
            return _error(exc.code, str(exc))
        except ClientError as exc:
            return _error(exc.response["Error"]["Code"], exc.response["Error"]["Message"])

    def _record(self, service: str | None, operation: str, detail: str) -> None:
        self.actions.append(RecordedAction(self.scheduler.now, service, _snake(operation), detail, self.dry_run))

    def _state_change(self, operation: str, request: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]] | None:
        handlers: dict[str, Callable[[dict[str, Any]], tuple[str | None, str, Callable[[], Any]]]] = {
            "UpdateService": self._update_service,
            "StopServiceDeployment": self._stop_service_deployment,
            "ContinueServiceDeployment": self._continue_service_deployment,
            "StopTask": self._stop_task,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
        }
        handler = handlers.get(operation)
        if handler is None:
            self._record(None, operation, json.dumps(request, sort_keys=True)[:200])
            return _error(
                "ClientException",
                f"{operation} is not modelled by the replay simulator; it was recorded and refused.",
            )
        service, detail, apply = handler(request)
        self._record(service, operation, detail)
        if self.dry_run:
            return _error(
                "DryRunOperation",
                f"{operation} blocked: the replay runs this watchdog in dry-run ({detail}).",
            )
        result = apply()
        return None if result is None else _ok(result)

    def _service_name(self, name_or_arn: str) -> str:
        name = _last_segment(name_or_arn)
        if name not in self.scheduler.service_names:
            raise SchedulerCommandError("ServiceNotFoundException", f"Service not found: {name_or_arn}")
        return name

    def _revision_of(self, service: str, task_definition: str) -> int:
        text = _last_segment(task_definition)
        family, _, number = text.partition(":")
        spec = self.scenario.service(service)
        if family != service:
            raise SchedulerCommandError("ClientException", f"TaskDefinition not found: {task_definition}")
        if not number:
            return max(r.revision for r in spec.revisions)
        if not number.isdigit() or int(number) not in {r.revision for r in spec.revisions}:
            raise SchedulerCommandError("ClientException", f"TaskDefinition not found: {task_definition}")
        return int(number)

    def _describe_service(self, name: str) -> dict[str, Any]:
        self.sync(name)
        return self._ecs.describe_services(cluster=self.scenario.cluster, services=[name])["services"][0]

    def _update_service(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        name = self._service_name(request["service"])
        view = self.scheduler.service(name)
        parts: list[str] = []
        desired = request.get("desiredCount")
        if desired is not None:
            parts.append(f"desiredCount {view.desired_count}→{desired}")
        revision = None
        if request.get("taskDefinition"):
            revision = self._revision_of(name, request["taskDefinition"])
            parts.append(f"taskDefinition {name}:{view.primary_revision}→{name}:{revision}")
        force = bool(request.get("forceNewDeployment"))
        if force:
            parts.append("forceNewDeployment")
        config = None
        if request.get("deploymentConfiguration"):
            config = _merge_configuration(view.config, request["deploymentConfiguration"])
            parts.append(f"deploymentConfiguration {json.dumps(request['deploymentConfiguration'], sort_keys=True)}")

        def apply() -> dict[str, Any]:
            self.scheduler.update_service(
                name,
                desired_count=desired,
                revision=revision,
                force_new_deployment=force,
                config=config,
                cause=f"UpdateService {'; '.join(parts)}",
            )
            return {"service": self._describe_service(name)}

        return name, "; ".join(parts) or "no change", apply

    def _find_deployment(self, arn: str) -> tuple[str, DeploymentView]:
        suffix = _last_segment(arn)
        for name in self.scheduler.service_names:
            for d in self.scheduler.deployment_history(name):
                if (
                    d.deployment_id.split("/")[-1] == suffix
                    and service_deployment_arn(self.scenario.region, self.scenario.cluster, name, d.deployment_id)
                    == arn
                ):
                    return name, d
        raise SchedulerCommandError("ServiceDeploymentNotFoundException", f"Service deployment not found: {arn}")

    def _stop_service_deployment(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        arn = request["serviceDeploymentArn"]
        stop_type = request.get("stopType", "ROLLBACK")
        name, dep = self._find_deployment(arn)

        def apply() -> dict[str, Any]:
            self.scheduler.stop_service_deployment(name, dep.deployment_id, stop_type)
            return {"serviceDeploymentArn": arn}

        return name, f"{dep.deployment_id} ({name}:{dep.revision}) {stop_type}", apply

    def _continue_service_deployment(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        arn = request["serviceDeploymentArn"]
        hook_id = request["hookId"]
        action = request.get("action", "CONTINUE")
        name, dep = self._find_deployment(arn)

        def apply() -> dict[str, Any]:
            self.scheduler.continue_service_deployment(name, dep.deployment_id, hook_id, action)
            return {"serviceDeploymentArn": arn}

        return name, f"{dep.deployment_id} ({name}:{dep.revision}) hook {hook_id} {action}", apply

    def _stop_task(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        task_id = _last_segment(request["task"])
        view = self.scheduler.task(task_id)
        if view is None:
            raise SchedulerCommandError("InvalidParameterException", f"The referenced task was not found: {task_id}")
        reason = request.get("reason") or "Task stopped by user"

        def apply() -> dict[str, Any]:
            stopped = self.scheduler.stop_task(task_id, reason)
            return {"task": self._task_dict(stopped)}

        return view.service, f"task {task_id}: {reason}", apply

    def _tag_resource(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        tags = ", ".join(f"{t['key']}={t['value']}" for t in request.get("tags", []))
        return self._resource_service(request["resourceArn"]), tags, lambda: None  # moto stores tags itself

    def _untag_resource(self, request: dict[str, Any]) -> tuple[str | None, str, Callable[[], Any]]:
        keys = ", ".join(request.get("tagKeys", []))
        return self._resource_service(request["resourceArn"]), f"remove {keys}", lambda: None

    def _resource_service(self, arn: str) -> str | None:
        name = _last_segment(arn)
        return name if ":service/" in arn and name in self.scheduler.service_names else None

    # -- answered reads --------------------------------------------------------------------------------

    def _task_dict(self, t: TaskView) -> dict[str, Any]:
        region, cluster = self.scenario.region, self.scenario.cluster
        arn = task_arn(region, cluster, t.task_id)
        task: dict[str, Any] = {
            "taskArn": arn,
            "clusterArn": cluster_arn(region, cluster),
            "taskDefinitionArn": task_definition_arn(region, t.service, t.revision),
            "lastStatus": t.last_status,
            "desiredStatus": t.desired_status,
            "healthStatus": "HEALTHY" if t.healthy else ("UNKNOWN" if t.last_status != "STOPPED" else "UNHEALTHY"),
            "group": f"service:{t.service}",
            "startedBy": t.deployment_id,
            "launchType": self.scenario.service(t.service).launch_type,
            "cpu": "256",
            "memory": "512",
            "version": t.version,
            "createdAt": self.at(t.created_at),
            "containers": [
                {
                    "containerArn": (
                        f"arn:aws:ecs:{region}:{ACCOUNT_ID}:container/{cluster}/{t.task_id}/{c.container_id}"
                    ),
                    "taskArn": arn,
                    "name": c.name,
                    "image": c.image,
                    "lastStatus": c.last_status,
                    **({"exitCode": c.exit_code} if c.exit_code is not None else {}),
                    **({"reason": c.reason} if c.reason is not None else {}),
                }
                for c in t.containers
            ],
        }
        if t.started_at is not None:
            task["startedAt"] = self.at(t.started_at)
        if t.stopped_at is not None:
            task["stoppedAt"] = self.at(t.stopped_at)
            task["stopCode"] = t.stop_code
            task["stoppedReason"] = t.stopped_reason
        return task

    def _answer_describe_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        tasks, failures = [], []
        for ref in request.get("tasks", []):
            view = self.scheduler.task(_last_segment(ref))
            if view is None:
                failures.append({"arn": ref, "reason": "MISSING"})
            else:
                tasks.append(self._task_dict(view))
        return {"tasks": tasks, "failures": failures}

    def _answer_list_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        status = request.get("desiredStatus", "RUNNING")
        names = (
            [self._service_name(request["serviceName"])]
            if request.get("serviceName")
            else list(self.scheduler.service_names)
        )
        ids = [i for name in names for i in self.scheduler.task_ids(name, status)]
        return {"taskArns": [task_arn(self.scenario.region, self.scenario.cluster, i) for i in ids]}

    def _brief(self, name: str, d: DeploymentView) -> dict[str, Any]:
        region, cluster = self.scenario.region, self.scenario.cluster
        brief: dict[str, Any] = {
            "serviceDeploymentArn": service_deployment_arn(region, cluster, name, d.deployment_id),
            "serviceArn": service_arn(region, cluster, name),
            "clusterArn": cluster_arn(region, cluster),
            "createdAt": self.at(d.created_at),
            "startedAt": self.at(d.created_at),
            "targetServiceRevisionArn": service_revision_arn(region, cluster, name, d.revision),
            "status": d.service_deployment_status,
            "statusReason": d.rollout_state_reason,
        }
        if d.finished_at is not None:
            brief["finishedAt"] = self.at(d.finished_at)
        return brief

    def _answer_list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        name = self._service_name(request["service"])
        wanted = set(request.get("status") or [])
        found = [
            self._brief(name, d)
            for d in self.scheduler.deployment_history(name)
            if not wanted or d.service_deployment_status in wanted
        ]
        limit = int(request.get("maxResults") or 20)
        return {"serviceDeployments": found[:limit]}

    def _answer_describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        region, cluster = self.scenario.region, self.scenario.cluster
        deployments, failures = [], []
        for arn in request.get("serviceDeploymentArns", []):
            try:
                name, d = self._find_deployment(arn)
            except SchedulerCommandError:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            view = self.scheduler.service(name)
            item = self._brief(name, d)
            item.pop("targetServiceRevisionArn")
            item["updatedAt"] = self.at(d.updated_at)
            item["targetServiceRevision"] = {
                "arn": service_revision_arn(region, cluster, name, d.revision),
                "requestedTaskCount": d.desired_count,
                "runningTaskCount": d.running_count,
                "pendingTaskCount": d.pending_count,
            }
            item["sourceServiceRevisions"] = [
                {
                    "arn": service_revision_arn(region, cluster, name, r),
                    "requestedTaskCount": 0,
                    "runningTaskCount": 0,
                    "pendingTaskCount": 0,
                }
                for r in d.source_revisions
            ]
            item["deploymentConfiguration"] = _deployment_configuration(view.config)
            breaker = view.config.breaker
            item["deploymentCircuitBreaker"] = {
                "status": (
                    "DISABLED"
                    if not breaker.enable
                    else "TRIGGERED"
                    if d.rollout_state == "FAILED"
                    else "MONITORING"
                    if d.rollout_state == "IN_PROGRESS"
                    else "MONITORING_COMPLETE"
                ),
                "failureCount": d.breaker_failures,
                "threshold": d.breaker_threshold,
            }
            if d.lifecycle_stage is not None:
                item["lifecycleStage"] = d.lifecycle_stage
                item["lifecycleHookDetails"] = [
                    {
                        "hookId": h.hook_id,
                        "targetType": "PAUSE",
                        "status": h.status,
                        "expiresAt": self.at(h.expires_at),
                        "timeoutAction": h.timeout_action,
                    }
                    for h in d.hooks
                ]
            if d.rolled_back_to is not None:
                item["rollback"] = {
                    "reason": d.rollout_state_reason,
                    "startedAt": self.at(d.updated_at),
                    "serviceRevisionArn": service_revision_arn(region, cluster, name, d.rolled_back_to),
                }
            deployments.append(item)
        return {"serviceDeployments": deployments, "failures": failures}

    def _answer_describe_service_revisions(self, request: dict[str, Any]) -> dict[str, Any]:
        region, cluster = self.scenario.region, self.scenario.cluster
        revisions, failures = [], []
        for arn in request.get("serviceRevisionArns", []):
            parts = arn.split("/")
            name = parts[-2] if len(parts) >= 3 else ""
            number = int(parts[-1]) if parts[-1].isdigit() else -1
            if name not in self.scheduler.service_names or number not in {
                r.revision for r in self.scenario.service(name).revisions
            }:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            revisions.append(
                {
                    "serviceRevisionArn": service_revision_arn(region, cluster, name, number),
                    "serviceArn": service_arn(region, cluster, name),
                    "clusterArn": cluster_arn(region, cluster),
                    "taskDefinition": task_definition_arn(region, name, number),
                    "launchType": self.scenario.service(name).launch_type,
                    "createdAt": self.scenario.start_time,
                }
            )
        return {"serviceRevisions": revisions, "failures": failures}


def _deployment_configuration(config: DeploymentConfig) -> dict[str, Any]:
    breaker = config.breaker
    shape: dict[str, Any] = {
        "deploymentCircuitBreaker": {
            "enable": breaker.enable,
            "rollback": breaker.rollback,
            "resetOnHealthyTask": breaker.reset_on_healthy_task,
            "thresholdConfiguration": {"type": breaker.threshold_type, "value": breaker.threshold_value},
        },
        "maximumPercent": config.maximum_percent,
        "minimumHealthyPercent": config.minimum_healthy_percent,
        "strategy": config.strategy,
    }
    if config.strategy != "ROLLING":
        shape["bakeTimeInMinutes"] = int(config.bake_time_minutes)
        shape["lifecycleHooks"] = [
            {
                "targetType": "PAUSE",
                "lifecycleStages": list(hook.stages),
                "timeoutConfiguration": {"timeoutInMinutes": hook.timeout_minutes, "action": hook.timeout_action},
            }
            for hook in config.lifecycle_hooks
        ]
    if config.traffic_shift is not None:
        shift = config.traffic_shift
        if config.strategy == "CANARY":
            shape["canaryConfiguration"] = {
                "canaryPercent": shift.percent,
                "canaryBakeTimeInMinutes": int(shift.interval_minutes),
            }
        else:
            shape["linearConfiguration"] = {
                "stepPercent": shift.percent,
                "stepBakeTimeInMinutes": int(shift.interval_minutes),
            }
    return shape


def _merge_configuration(current: DeploymentConfig, requested: Mapping[str, Any]) -> DeploymentConfig:
    breaker = current.breaker
    raw = requested.get("deploymentCircuitBreaker")
    if raw:
        threshold = raw.get("thresholdConfiguration") or {}
        breaker = BreakerConfig(
            enable=raw.get("enable", breaker.enable),
            rollback=raw.get("rollback", breaker.rollback),
            threshold_type=threshold.get("type", breaker.threshold_type),
            threshold_value=threshold.get("value", breaker.threshold_value),
            reset_on_healthy_task=raw.get("resetOnHealthyTask", breaker.reset_on_healthy_task),
        )
    return replace(
        current,
        minimum_healthy_percent=requested.get("minimumHealthyPercent", current.minimum_healthy_percent),
        maximum_percent=requested.get("maximumPercent", current.maximum_percent),
        breaker=breaker,
    )


def _metadata(status: int) -> dict[str, Any]:
    return {"RequestId": "replay-0000", "HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}


def _ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://ecs.replay.invalid/", 200, {}, None), {
        **parsed,
        "ResponseMetadata": _metadata(200),
    }


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": _metadata(400)}
    return AWSResponse("https://ecs.replay.invalid/", 400, {}, None), parsed
