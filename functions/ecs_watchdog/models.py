"""The nouns the watchdog works with: a stopped task, its classification, a finding.

Each is a small immutable model. Raw event dicts become these in `events.py` and nowhere else.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ContainerStop(BaseModel):
    """One container of a stopped task, as the task event reports it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    exit_code: int | None = None
    reason: str | None = None
    image: str | None = None
    last_status: str | None = None


class Stop(BaseModel):
    """A task of an ECS service that reached STOPPED: everything the classifier may look at."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    task_arn: str
    region: str = ""
    account: str = ""
    cluster_arn: str = ""
    group: str = ""
    task_definition_arn: str = ""
    started_by: str = ""
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: tuple[ContainerStop, ...] = ()
    desired_status: str | None = None
    launch_type: str | None = None
    capacity_provider: str | None = None
    started_at: datetime | None = None
    stopping_at: datetime | None = None
    stopped_at: datetime | None = None
    version: int = 0
    event_id: str | None = None

    @property
    def task_id(self) -> str:
        """The task's short id, the last segment of its ARN."""
        return self.task_arn.rsplit("/", 1)[-1]

    @property
    def cluster(self) -> str:
        """The cluster's name (from the cluster ARN, or the task ARN's new-style path)."""
        if self.cluster_arn:
            return self.cluster_arn.rsplit("/", 1)[-1]
        parts = self.task_arn.split("/")
        return parts[1] if len(parts) == 3 else ""

    @property
    def service(self) -> str:
        """The service's name, from `group` (`service:<name>`); empty for standalone tasks."""
        return self.group.split(":", 1)[1] if self.group.startswith("service:") else ""

    @property
    def task_definition(self) -> str:
        """`family:revision` of the task definition, for people to read."""
        return self.task_definition_arn.rsplit("/", 1)[-1]


class Classification(BaseModel):
    """Why a task stopped: category, the rule that said so, verbatim evidence and what to do next.

    The field names are a contract: the `ecs-watchdog classify` CLI prints them as JSON.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    category: str
    failure: bool
    rule: str
    title: str
    summary: str
    evidence: tuple[str, ...] = ()
    next_steps: tuple[str, ...] = ()
    runbook: str = ""
    container: str | None = None
    sidecars: tuple[str, ...] = Field(default=(), description="other containers that stopped, noted only")
    image: str | None = None
    secret_arn: str | None = None
    log_group: str | None = None
    target_group_arn: str | None = None
    exit_code: int | None = None
    exit_meaning: str | None = None
    signal: str | None = None
    # Where the cause lives: revision | configuration | platform (classify/categories.py); None when
    # unknown or nothing failed. Added after the first fields: consumers that do not know it ignore it.
    cause: str | None = None


class Finding(BaseModel):
    """A classified stop of one service's task: what the notifier turns into messages."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    stop: Stop
    classification: Classification

    @property
    def service_label(self) -> str:
        """`cluster/service`, the way operators name a service."""
        return f"{self.stop.cluster}/{self.stop.service}"
