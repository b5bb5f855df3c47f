"""Between ECS's terms and the model's: the service or deployment a request's name or ARN means, and the
wall time of a simulated second.

Unknown references raise `SchedulerCommandError` with the code AWS would answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ecs_watchdog.replay.envelopes import service_deployment_arn
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import DeploymentView, Scheduler, SchedulerCommandError


def last_segment(name_or_arn: str) -> str:
    """The name at the end of an ARN (a bare name is its own last segment)."""
    return name_or_arn.rsplit("/", 1)[-1]


class ModelReferences:
    """Resolves the references in ECS requests to the scenario's services and the model's deployments."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler) -> None:
        self.scenario = scenario
        self.scheduler = scheduler

    def at(self, seconds: float) -> datetime:
        """Wall time of a simulated second."""
        return self.scenario.start_time + timedelta(milliseconds=round(seconds * 1000))

    def service_name(self, name_or_arn: str) -> str:
        """The model's name of a service named by name or ARN."""
        name = last_segment(name_or_arn)
        if name not in self.scheduler.service_names:
            raise SchedulerCommandError("ServiceNotFoundException", f"Service not found: {name_or_arn}")
        return name

    def find_deployment(self, arn: str) -> tuple[str, DeploymentView]:
        """The service and the deployment a service deployment ARN names."""
        suffix = last_segment(arn)
        for name in self.scheduler.service_names:
            for d in self.scheduler.deployment_history(name):
                if (
                    d.deployment_id.split("/")[-1] == suffix
                    and service_deployment_arn(self.scenario.region, self.scenario.cluster, name, d.deployment_id)
                    == arn
                ):
                    return name, d
        raise SchedulerCommandError("ServiceDeploymentNotFoundException", f"Service deployment not found: {arn}")
