"""Typed ECS events as EventBridge delivers them: the only place raw dicts become models.

Field names follow the AWS samples (camelCase) so fixtures copied from the docs parse as they are.
ECS adds fields over time, so unknown fields are ignored; missing required ones are an error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.models import ContainerStop, Stop

TASK_STATE_CHANGE = "ECS Task State Change"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"
HOOK_STATE_CHANGE = "ECS Hook State Change"
API_CALL_VIA_CLOUDTRAIL = "AWS API Call via CloudTrail"
CONTAINER_INSTANCE_HEALTH_CHANGE = "ECS Container Instance Health Change"


# Task states before any stop; a task in them has no stop reason to classify.
NOT_STOPPING = frozenset({"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"})


class MalformedEvent(ValueError):
    """The input is not an ECS event the watchdog understands; the message says what is wrong."""


# ECS stamps every event in UTC. A time without a zone cannot be compared with stored ones, and a time
# far outside the service's life (year 9999) cannot be stored (TTLs overflow): both are malformed.
EARLIEST = datetime(2010, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no time zone (ECS events are stamped in UTC, e.g. 2025-07-21T08:00:00Z)")
    if not EARLIEST <= value < LATEST:
        raise ValueError(f"time {value.isoformat()} is outside {EARLIEST.year}..{LATEST.year - 1}")
    return value


EventTime = Annotated[datetime, AfterValidator(_plausible_time)]


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class ContainerDetail(_Detail):
    name: str
    exitCode: int | None = None
    reason: str | None = None
    image: str | None = None
    lastStatus: str | None = None


class TaskStateChangeDetail(_Detail):
    taskArn: str
    lastStatus: str
    desiredStatus: str | None = None
    group: str = ""
    clusterArn: str = ""
    taskDefinitionArn: str = ""
    startedBy: str = ""
    stopCode: str | None = None
    stoppedReason: str | None = None
    containers: list[ContainerDetail] = []
    launchType: str | None = None
    capacityProviderName: str | None = None
    startedAt: EventTime | None = None
    stoppingAt: EventTime | None = None
    stoppedAt: EventTime | None = None
    updatedAt: EventTime | None = None
    version: int = 0


class DeploymentStateChangeDetail(_Detail):
    eventType: str
    eventName: str
    deploymentId: str
    updatedAt: EventTime | None = None
    reason: str = ""


class ServiceActionDetail(_Detail):
    eventType: str
    eventName: str
    clusterArn: str = ""
    createdAt: EventTime | None = None
    reason: str = ""
    desiredCount: int | None = None
    taskArns: list[str] = []


class _EcsEnvelope(BaseModel):
    """The EventBridge envelope (the fields of Powertools' EventBridgeModel, whose module costs ~150 ms of
    cold start for the parser's every other model: issue 23)."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

    version: str
    id: str
    source: str
    account: str
    time: EventTime
    region: str
    resources: list[str]
    detail_type: str = Field(alias="detail-type")
    detail: Any
    replay_name: str | None = Field(None, alias="replay-name")


class TaskStateChangeEvent(_EcsEnvelope):
    detail_type: Literal["ECS Task State Change"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: TaskStateChangeDetail


class DeploymentStateChangeEvent(_EcsEnvelope):
    detail_type: Literal["ECS Deployment State Change"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: DeploymentStateChangeDetail

    @property
    def service_arn(self) -> str:
        """The service the deployment belongs to (ECS names it in `resources`)."""
        return self.resources[0] if self.resources else ""


class ServiceActionEvent(_EcsEnvelope):
    detail_type: Literal["ECS Service Action"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: ServiceActionDetail

    @property
    def service_arn(self) -> str:
        """The service the action is about (ECS names it in `resources`)."""
        return self.resources[0] if self.resources else ""


class HookStateChangeEvent(_EcsEnvelope):
    """Deployment lifecycle hooks (`HOOK_AWAITING_ACTION`); kept raw until a later issue answers them."""

    detail_type: Literal["ECS Hook State Change"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: dict[str, Any]


class ApiCallDetail(_Detail):
    """A CloudTrail record of an ECS API call (the rule lets through only failed ones)."""

    eventSource: str
    eventName: str
    errorCode: str
    errorMessage: str = ""
    eventID: str = ""
    eventTime: EventTime | None = None
    awsRegion: str = ""
    recipientAccountId: str = ""
    # Who called: CloudTrail's userIdentity (its `arn` names the deploy role or user).
    userIdentity: dict[str, Any] = {}
    userAgent: str = ""
    # As the caller sent them; CloudTrail records null for calls it cannot describe.
    requestParameters: dict[str, Any] | None = None


class ApiCallErrorEvent(_EcsEnvelope):
    """A failed ECS API call (RegisterTaskDefinition, UpdateService, RunTask, ...) as CloudTrail saw it."""

    detail_type: Literal["AWS API Call via CloudTrail"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: ApiCallDetail


class InstanceHealthCheck(_Detail):
    """One of the agent's health checks of a container instance (CONTAINER_RUNTIME, ACCELERATED_COMPUTE,
    DAEMON, agent connectivity); ECS adds kinds over time, so every field is optional."""

    type: str | None = None
    status: str | None = None
    statusReason: str | None = None

    def describe(self) -> str:
        """`CONTAINER_RUNTIME IMPAIRED: <reason>`, for people."""
        text = " ".join(part for part in (self.type, self.status) if part) or "a health check"
        return f"{text}: {self.statusReason}" if self.statusReason else text


class ContainerInstanceHealthDetail(_Detail):
    """The detail of `ECS Container Instance Health Change` (Amazon ECS developer guide, "Amazon ECS
    container instance health change events"): overallStatus OK | IMPAIRED | INSUFFICIENT_DATA |
    INITIALIZING, the most severe of the individual checks."""

    clusterArn: str
    containerInstanceArn: str
    overallStatus: str
    ec2InstanceId: str | None = None
    capacityProviderName: str | None = None
    healthChecks: list[InstanceHealthCheck] = []

    def failing_checks(self) -> list[str]:
        """The checks that are not OK, described for people."""
        return [c.describe() for c in self.healthChecks if c.status and c.status != "OK"]


class ContainerInstanceHealthEvent(_EcsEnvelope):
    """A container instance's health changed (EC2 and ECS Managed Instances): never a reason to roll back."""

    detail_type: Literal["ECS Container Instance Health Change"] = Field(alias="detail-type")  # type: ignore[assignment]
    detail: ContainerInstanceHealthDetail

    @property
    def cluster(self) -> str:
        """The cluster's name, from its ARN."""
        return self.detail.clusterArn.rsplit("/", 1)[-1]


EcsEvent = (
    TaskStateChangeEvent
    | DeploymentStateChangeEvent
    | ServiceActionEvent
    | HookStateChangeEvent
    | ApiCallErrorEvent
    | ContainerInstanceHealthEvent
)

_MODELS: dict[str, type[EcsEvent]] = {
    TASK_STATE_CHANGE: TaskStateChangeEvent,
    DEPLOYMENT_STATE_CHANGE: DeploymentStateChangeEvent,
    SERVICE_ACTION: ServiceActionEvent,
    HOOK_STATE_CHANGE: HookStateChangeEvent,
    API_CALL_VIA_CLOUDTRAIL: ApiCallErrorEvent,
    CONTAINER_INSTANCE_HEALTH_CHANGE: ContainerInstanceHealthEvent,
}


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (+{error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def parse_envelope(raw: Any) -> EcsEvent:
    """Parse one EventBridge envelope (a dict or its JSON text) into its typed ECS event.

    Raises MalformedEvent naming the first offending field, or the unsupported detail-type.
    """
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise MalformedEvent(f"not JSON: {error.msg} at position {error.pos}") from error
        except RecursionError:
            raise MalformedEvent("not an ECS event: JSON nested too deeply to read") from None
        except UnicodeDecodeError as error:
            raise MalformedEvent(f"not UTF-8 text: {error.reason} at byte {error.start}") from None
    if not isinstance(raw, dict):
        raise MalformedEvent(f"expected a JSON object, got {type(raw).__name__}")
    if raw.get("source") != "aws.ecs":
        raise MalformedEvent(f"source: expected 'aws.ecs', got {raw.get('source')!r}")
    detail_type = raw.get("detail-type")
    model = _MODELS.get(detail_type) if isinstance(detail_type, str) else None
    if model is None:
        raise MalformedEvent(f"detail-type: unsupported {detail_type!r}; expected one of {sorted(_MODELS)}")
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise MalformedEvent(_describe(error)) from error
    except RecursionError:
        raise MalformedEvent("not an ECS event: nested too deeply to read") from None


def stop_from_detail(
    detail: TaskStateChangeDetail, *, region: str = "", account: str = "", event_id: str | None = None
) -> Stop:
    """Turn a task event's detail into the classifier's `Stop`."""
    return Stop(
        task_arn=detail.taskArn,
        region=region or _arn_part(detail.taskArn, 3),
        account=account or _arn_part(detail.taskArn, 4),
        cluster_arn=detail.clusterArn,
        group=detail.group,
        task_definition_arn=detail.taskDefinitionArn,
        started_by=detail.startedBy,
        stop_code=detail.stopCode,
        stopped_reason=detail.stoppedReason,
        containers=tuple(
            ContainerStop(name=c.name, exit_code=c.exitCode, reason=c.reason, image=c.image, last_status=c.lastStatus)
            for c in detail.containers
        ),
        desired_status=detail.desiredStatus,
        launch_type=detail.launchType,
        capacity_provider=detail.capacityProviderName,
        started_at=detail.startedAt,
        stopping_at=detail.stoppingAt,
        stopped_at=detail.stoppedAt,
        version=detail.version,
        event_id=event_id,
    )


def stop_from_event(event: TaskStateChangeEvent) -> Stop:
    """The `Stop` carried by a parsed task state change envelope."""
    return stop_from_detail(event.detail, region=event.region, account=event.account, event_id=event.id)


def parse_stop(raw: Any) -> Stop:
    """Parse a STOPPED task from either a whole EventBridge envelope or just its `detail` object.

    This is what the `classify` CLI accepts. Raises MalformedEvent when it is neither.
    """
    if isinstance(raw, dict) and "detail-type" in raw:
        event = parse_envelope(raw)
        if not isinstance(event, TaskStateChangeEvent):
            raise MalformedEvent(f"detail-type: expected {TASK_STATE_CHANGE!r}, got {event.detail_type!r}")
        _require_stopping(event.detail)
        return stop_from_event(event)
    if not isinstance(raw, dict):
        raise MalformedEvent(f"expected a JSON object, got {type(raw).__name__}")
    try:
        detail = TaskStateChangeDetail.model_validate(raw)
    except ValidationError as error:
        raise MalformedEvent(_describe(error)) from error
    _require_stopping(detail)
    return stop_from_detail(detail)


def _require_stopping(detail: TaskStateChangeDetail) -> None:
    """A task that has not begun to stop has no stop reason to classify."""
    if detail.lastStatus in NOT_STOPPING and not (detail.stopCode or detail.stoppedReason):
        raise MalformedEvent(f"lastStatus: the task has not stopped ({detail.lastStatus}); nothing to classify")


def _arn_part(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) > index else ""
