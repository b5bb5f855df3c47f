"""The state-changing ECS calls a watchdog makes: each one is recorded as an action, then applied to the model,
or refused with `DryRunOperation` in dry-run so that nothing reaches any state.

UpdateService, StopServiceDeployment, ContinueServiceDeployment, StopTask, TagResource and
UntagResource are modelled; any other state-changing operation is recorded and refused with
`ClientException`. UpdateService never reaches moto's own state: the model owns the services.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecs_watchdog.replay.mirror.configuration import merge_configuration
from ecs_watchdog.replay.mirror.references import ModelReferences, last_segment
from ecs_watchdog.replay.mirror.responses import HookAnswer, error, ok
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import Scheduler, SchedulerCommandError, TaskView

# What a modelled call's handler returns, before anything is applied: the service it acts on (None
# when it names none), a one-line detail for the record, and the change itself with its result.
Change = tuple[str | None, str, Callable[[], Any]]


@dataclass(frozen=True)
class RecordedAction:
    """A state-changing ECS call that reached a hook."""

    at: float  # simulated seconds
    service: str | None
    action: str  # snake_case operation name, e.g. update_service
    detail: str
    dry_run: bool


def snake(operation: str) -> str:
    """An operation's snake_case name, as boto3 names the method: UpdateService -> update_service."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


class StateChanges:
    """Records every state-changing call and applies the modelled ones to the scheduler (unless dry-run)."""

    def __init__(
        self,
        scenario: Scenario,
        scheduler: Scheduler,
        references: ModelReferences,
        *,
        dry_run: bool,
        task_shape: Callable[[TaskView], dict[str, Any]],
        describe_service: Callable[[str], dict[str, Any]],
    ) -> None:
        """`task_shape` and `describe_service` give StopTask and UpdateService the results AWS returns."""
        self.scenario = scenario
        self.scheduler = scheduler
        self.dry_run = dry_run
        self.actions: list[RecordedAction] = []
        self._references = references
        self._task_shape = task_shape
        self._describe_service = describe_service
        self._handlers: dict[str, Callable[[dict[str, Any]], Change]] = {
            "UpdateService": self._update_service,
            "StopServiceDeployment": self._stop_service_deployment,
            "ContinueServiceDeployment": self._continue_service_deployment,
            "StopTask": self._stop_task,
            "TagResource": self._tag_resource,
            "UntagResource": self._untag_resource,
        }

    def handle(self, operation: str, request: dict[str, Any]) -> HookAnswer | None:
        """Record one state-changing call, then refuse it (dry-run, unknown operation) or apply it to the model."""
        handler = self._handlers.get(operation)
        if handler is None:
            self._record(None, operation, json.dumps(request, sort_keys=True)[:200])
            return error(
                "ClientException",
                f"{operation} is not modelled by the replay simulator; it was recorded and refused.",
            )
        service, detail, apply = handler(request)
        self._record(service, operation, detail)
        # The one call a dry-run watchdog makes: a PAUSE hook answered CONTINUE, as if it were not there.
        fails_open = operation == "ContinueServiceDeployment" and request.get("action", "CONTINUE") == "CONTINUE"
        if self.dry_run and not fails_open:
            return error(
                "DryRunOperation",
                f"{operation} blocked: the replay runs this watchdog in dry-run ({detail}).",
            )
        result = apply()
        return None if result is None else ok(result)

    def _record(self, service: str | None, operation: str, detail: str) -> None:
        self.actions.append(RecordedAction(self.scheduler.now, service, snake(operation), detail, self.dry_run))

    def _revision_of(self, service: str, task_definition: str) -> int:
        text = last_segment(task_definition)
        family, _, number = text.partition(":")
        spec = self.scenario.service(service)
        if family != service:
            raise SchedulerCommandError("ClientException", f"TaskDefinition not found: {task_definition}")
        if not number:
            return max(r.revision for r in spec.revisions)
        if not number.isdigit() or int(number) not in {r.revision for r in spec.revisions}:
            raise SchedulerCommandError("ClientException", f"TaskDefinition not found: {task_definition}")
        return int(number)

    def _update_service(self, request: dict[str, Any]) -> Change:
        name = self._references.service_name(request["service"])
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
            config = merge_configuration(view.config, request["deploymentConfiguration"])
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

    def _stop_service_deployment(self, request: dict[str, Any]) -> Change:
        arn = request["serviceDeploymentArn"]
        stop_type = request.get("stopType", "ROLLBACK")
        name, dep = self._references.find_deployment(arn)

        def apply() -> dict[str, Any]:
            self.scheduler.stop_service_deployment(name, dep.deployment_id, stop_type)
            return {"serviceDeploymentArn": arn}

        return name, f"{dep.deployment_id} ({name}:{dep.revision}) {stop_type}", apply

    def _continue_service_deployment(self, request: dict[str, Any]) -> Change:
        arn = request["serviceDeploymentArn"]
        hook_id = request["hookId"]
        action = request.get("action", "CONTINUE")
        name, dep = self._references.find_deployment(arn)

        def apply() -> dict[str, Any]:
            self.scheduler.continue_service_deployment(name, dep.deployment_id, hook_id, action)
            return {"serviceDeploymentArn": arn}

        return name, f"{dep.deployment_id} ({name}:{dep.revision}) hook {hook_id} {action}", apply

    def _stop_task(self, request: dict[str, Any]) -> Change:
        task_id = last_segment(request["task"])
        view = self.scheduler.task(task_id)
        if view is None:
            raise SchedulerCommandError("InvalidParameterException", f"The referenced task was not found: {task_id}")
        reason = request.get("reason") or "Task stopped by user"

        def apply() -> dict[str, Any]:
            stopped = self.scheduler.stop_task(task_id, reason)
            return {"task": self._task_shape(stopped)}

        return view.service, f"task {task_id}: {reason}", apply

    def _tag_resource(self, request: dict[str, Any]) -> Change:
        tags = ", ".join(f"{t['key']}={t['value']}" for t in request.get("tags", []))
        return self._resource_service(request["resourceArn"]), tags, lambda: None  # moto stores tags itself

    def _untag_resource(self, request: dict[str, Any]) -> Change:
        keys = ", ".join(request.get("tagKeys", []))
        return self._resource_service(request["resourceArn"]), f"remove {keys}", lambda: None

    def _resource_service(self, arn: str) -> str | None:
        name = last_segment(arn)
        return name if ":service/" in arn and name in self.scheduler.service_names else None
