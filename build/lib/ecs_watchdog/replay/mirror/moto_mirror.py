"""The mirror assembled: the scenario's account built in moto, and one `before-call.ecs` hook that routes each
ECS operation on the watchdog's session to whoever answers it.

DescribeServices refreshes moto's copy of the named services, then moto answers; the reads moto lacks
are answered from the model; other reads go to moto; everything else is a state-changing call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.model import OperationModel

from ecs_watchdog.replay.mirror.account import ScenarioAccount
from ecs_watchdog.replay.mirror.answered_reads import AnsweredReads
from ecs_watchdog.replay.mirror.references import ModelReferences, last_segment
from ecs_watchdog.replay.mirror.responses import HookAnswer, error, ok
from ecs_watchdog.replay.mirror.service_sync import ServiceSync
from ecs_watchdog.replay.mirror.state_changes import RecordedAction, StateChanges
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import Scheduler, SchedulerCommandError


class Mirror:
    """Creates the scenario in moto and keeps moto's ECS services in step with the scheduler model."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler, *, dry_run: bool) -> None:
        """Call `build()` inside `moto.mock_aws()` before installing hooks on a session."""
        self.scenario = scenario
        self.scheduler = scheduler
        self.dry_run = dry_run
        self._account = ScenarioAccount(scenario, scheduler)
        self._ecs: Any = None
        references = ModelReferences(scenario, scheduler)
        self._services = ServiceSync(scenario, scheduler, references)
        self._reads = AnsweredReads(scenario, scheduler, references)
        self._changes = StateChanges(
            scenario,
            scheduler,
            references,
            dry_run=dry_run,
            task_shape=self._reads.task,
            describe_service=self._describe_service,
        )

    @property
    def actions(self) -> list[RecordedAction]:
        """Every state-changing ECS call that reached the hook, in order."""
        return self._changes.actions

    def build(self) -> None:
        """Create environment, cluster, task definitions and services in moto (under mock_aws)."""
        self._account.create_environment()
        self._ecs = self._account.create_cluster()
        for spec in self.scenario.services:
            self._account.create_service(spec)
            self.sync(spec.name)

    def sync(self, name: str) -> None:
        """Copy the model's view of one service into moto's ECS backend."""
        self._services.sync(name)

    def install(self, session: boto3.Session) -> None:
        """Register the ECS hooks on the session the watchdog will use (before it creates clients)."""
        session.events.register("before-call.ecs", self._on_ecs_call, unique_id="ecs-watchdog-replay-mirror")

    def _on_ecs_call(self, model: OperationModel, params: Mapping[str, Any], **_: Any) -> HookAnswer | None:
        operation = model.name
        body = params.get("body") or b"{}"
        request: dict[str, Any] = json.loads(body) if body else {}
        try:
            if operation == "DescribeServices":
                for name in request.get("services", []):
                    if last_segment(name) in self.scheduler.service_names:
                        self.sync(last_segment(name))
                return None  # moto answers from the refreshed copy
            if self._reads.answers(operation):
                return ok(self._reads.answer(operation, request))
            if operation.startswith(("Describe", "List", "Get")):
                return None
            return self._changes.handle(operation, request)
        except SchedulerCommandError as exc:
            return error(exc.code, str(exc))
        except ClientError as exc:
            return error(exc.response["Error"]["Code"], exc.response["Error"]["Message"])

    def _describe_service(self, name: str) -> dict[str, Any]:
        # What UpdateService returns: the refreshed service as moto describes it.
        self.sync(name)
        return self._ecs.describe_services(cluster=self.scenario.cluster, services=[name])["services"][0]
