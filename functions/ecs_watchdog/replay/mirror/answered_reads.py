"""The ECS reads the model answers itself, because moto lacks them or lacks the model's tasks: DescribeTasks,
ListTasks, ListServiceDeployments, DescribeServiceDeployments and DescribeServiceRevisions.

Each answer is the parsed result AWS would return, built from the scheduler's views; references the
model does not know become `failures` (describes) or `SchedulerCommandError` (lists), as in AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecs_watchdog.replay.envelopes import (
    ACCOUNT_ID,
    cluster_arn,
    service_arn,
    service_deployment_arn,
    service_revision_arn,
    task_arn,
    task_definition_arn,
)
from ecs_watchdog.replay.mirror.configuration import deployment_configuration
from ecs_watchdog.replay.mirror.references import ModelReferences, last_segment
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import DeploymentView, Scheduler, SchedulerCommandError, TaskView


class AnsweredReads:
    """Answers the reads moto cannot, from the scheduler's views."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler, references: ModelReferences) -> None:
        self.scenario = scenario
        self.scheduler = scheduler
        self._references = references
        self._at = references.at
        self._answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "ListServiceDeployments": self._list_service_deployments,
            "DescribeServiceDeployments": self._describe_service_deployments,
            "DescribeServiceRevisions": self._describe_service_revisions,
            "DescribeTasks": self._describe_tasks,
            "ListTasks": self._list_tasks,
        }

    def answers(self, operation: str) -> bool:
        """Whether the model answers this read (otherwise moto does)."""
        return operation in self._answers

    def answer(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """The parsed result of one answered read."""
        return self._answers[operation](request)

    def task(self, t: TaskView) -> dict[str, Any]:
        """A task as DescribeTasks shows it (StopTask returns the same shape)."""
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
            "createdAt": self._at(t.created_at),
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
            task["startedAt"] = self._at(t.started_at)
        if t.stopped_at is not None:
            task["stoppedAt"] = self._at(t.stopped_at)
            task["stopCode"] = t.stop_code
            task["stoppedReason"] = t.stopped_reason
        return task

    def _describe_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        tasks, failures = [], []
        for ref in request.get("tasks", []):
            view = self.scheduler.task(last_segment(ref))
            if view is None:
                failures.append({"arn": ref, "reason": "MISSING"})
            else:
                tasks.append(self.task(view))
        return {"tasks": tasks, "failures": failures}

    def _list_tasks(self, request: dict[str, Any]) -> dict[str, Any]:
        status = request.get("desiredStatus", "RUNNING")
        names = (
            [self._references.service_name(request["serviceName"])]
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
            "createdAt": self._at(d.created_at),
            "startedAt": self._at(d.created_at),
            "targetServiceRevisionArn": service_revision_arn(region, cluster, name, d.revision),
            "status": d.service_deployment_status,
            "statusReason": d.rollout_state_reason,
        }
        if d.finished_at is not None:
            brief["finishedAt"] = self._at(d.finished_at)
        return brief

    def _list_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        name = self._references.service_name(request["service"])
        wanted = set(request.get("status") or [])
        found = [
            self._brief(name, d)
            for d in self.scheduler.deployment_history(name)
            if not wanted or d.service_deployment_status in wanted
        ]
        limit = int(request.get("maxResults") or 20)
        return {"serviceDeployments": found[:limit]}

    def _describe_service_deployments(self, request: dict[str, Any]) -> dict[str, Any]:
        region, cluster = self.scenario.region, self.scenario.cluster
        deployments, failures = [], []
        for arn in request.get("serviceDeploymentArns", []):
            try:
                name, d = self._references.find_deployment(arn)
            except SchedulerCommandError:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            view = self.scheduler.service(name)
            item = self._brief(name, d)
            item.pop("targetServiceRevisionArn")
            item["updatedAt"] = self._at(d.updated_at)
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
            item["deploymentConfiguration"] = deployment_configuration(view.config)
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
                        "targetType": h.target_type,
                        "status": h.status,
                        "expiresAt": self._at(h.expires_at),
                        "timeoutAction": h.timeout_action,
                    }
                    for h in d.hooks
                ]
            if d.rolled_back_to is not None:
                item["rollback"] = {
                    "reason": d.rollout_state_reason,
                    "startedAt": self._at(d.updated_at),
                    "serviceRevisionArn": service_revision_arn(region, cluster, name, d.rolled_back_to),
                }
            deployments.append(item)
        return {"serviceDeployments": deployments, "failures": failures}

    def _describe_service_revisions(self, request: dict[str, Any]) -> dict[str, Any]:
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
