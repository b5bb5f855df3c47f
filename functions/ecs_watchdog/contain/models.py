"""Containment's nouns: what a fresh DescribeServices says, the policy, the action and its record.

All frozen: the decision reads them and returns a new one. `Action` and `ActionRecord` are also
what the audit trail stores and emits, so they serialise to JSON as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ACTION_TAG = "ecs-watchdog:action"
PREVIOUS_DESIRED_COUNT_TAG = "ecs-watchdog:previous-desired-count"
ECS_CONTROLLER = "ECS"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class Mode(StrEnum):
    """How far the watchdog goes. Ordered: each mode does everything the one before it does."""

    NOTIFY = "notify"  # tell people what happened
    DRY_RUN = "dry-run"  # also say which exact call containment would make; make none
    APPROVE = "approve"  # decide as enforce, propose the call in Slack; make it when a person approves
    ENFORCE = "enforce"  # make the call

    @property
    def rank(self) -> int:
        return _MODE_RANK[self]


_MODE_RANK = {Mode.NOTIFY: 0, Mode.DRY_RUN: 1, Mode.APPROVE: 2, Mode.ENFORCE: 3}


class ServiceTagAction(StrEnum):
    """The per-service tag `ecs-watchdog:action`: what this service allows the watchdog to do."""

    AUTO = "auto"  # whichever action fits the situation
    ROLLBACK = "rollback"  # roll back only; never scale this service to zero
    SCALE_TO_ZERO = "scale-to-zero"  # never run an older revision: stop the service instead
    NOTIFY = "notify"  # tell people, never act
    APPROVE = "approve"  # whichever action fits, proposed: made only when a person approves it in Slack
    IGNORE = "ignore"  # neither act nor speak about this service

    @classmethod
    def from_tags(cls, tags: dict[str, str]) -> tuple[ServiceTagAction, str | None]:
        """The service's `ecs-watchdog:action` tag (AUTO when absent) and, when the value is not one
        of ours, the problem to log: an unknown value reads as NOTIFY, which never acts but still tells."""
        value = tags.get(ACTION_TAG)
        if value is None:
            return cls.AUTO, None
        try:
            return cls(value.strip().lower()), None
        except ValueError:
            allowed = ", ".join(a.value for a in cls)
            return cls.NOTIFY, f"tag {ACTION_TAG}={value!r} is not one of {allowed}: treated as notify"


class ActionKind(StrEnum):
    ROLLBACK_DEPLOYMENT = "rollback_deployment"  # StopServiceDeployment(stopType=ROLLBACK)
    ROLLBACK_UPDATE_SERVICE = "rollback_update_service"  # UpdateService(taskDefinition=<last known good>)
    SCALE_TO_ZERO = "scale_to_zero"  # tag, suspend auto scaling, UpdateService(desiredCount=0)
    NOTIFY_ONLY = "notify_only"  # tell people why nothing was done
    STAND_DOWN = "stand_down"  # nothing to do (already done, or a person got there first)
    RESTORE_DESIRED_COUNT = "restore_desired_count"  # undo of scale_to_zero
    REAPPLY_REVISION = "reapply_revision"  # undo of a rollback

    @property
    def changes_service(self) -> bool:
        return self not in (ActionKind.NOTIFY_ONLY, ActionKind.STAND_DOWN)


class DeploymentView(_Frozen):
    """One entry of DescribeServices' `deployments`."""

    id: str
    task_definition: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None = None  # IN_PROGRESS | COMPLETED | FAILED
    desired_count: int = 0
    running_count: int = 0
    failed_tasks: int = 0
    created_at: datetime | None = None


class ScalingView(_Frozen):
    """The service's Application Auto Scaling target, when it has one."""

    resource_id: str  # service/<cluster>/<service>
    min_capacity: int
    max_capacity: int
    dynamic_scaling_in_suspended: bool = False
    dynamic_scaling_out_suspended: bool = False
    scheduled_scaling_suspended: bool = False

    def suspended_state(self) -> dict[str, bool]:
        """The target's SuspendedState as RegisterScalableTarget takes it."""
        return {
            "DynamicScalingInSuspended": self.dynamic_scaling_in_suspended,
            "DynamicScalingOutSuspended": self.dynamic_scaling_out_suspended,
            "ScheduledScalingSuspended": self.scheduled_scaling_suspended,
        }


class ServiceView(_Frozen):
    """A service as a fresh DescribeServices (and, when known, ListServiceDeployments) shows it."""

    cluster: str
    service: str
    service_arn: str
    desired_count: int
    running_count: int
    task_definition: str  # the service's current (PRIMARY) task definition
    deployment_controller: str = ECS_CONTROLLER  # ECS | CODE_DEPLOY | EXTERNAL
    launch_type: str | None = None
    deployments: tuple[DeploymentView, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    # Service deployment ARNs (StopServiceDeployment needs one): the current one from DescribeServices,
    # and the IN_PROGRESS one from ListServiceDeployments when it was asked.
    current_service_deployment_arn: str | None = None
    in_progress_service_deployment_arn: str | None = None
    scaling: ScalingView | None = None

    def in_progress(self) -> tuple[DeploymentView, ...]:
        """Deployments still rolling out."""
        return tuple(d for d in self.deployments if d.rollout_state == "IN_PROGRESS")

    def running_other_than(self, task_definition: str | None) -> int:
        """Running tasks of every revision but `task_definition`: the healthy-task approximation."""
        return sum(d.running_count for d in self.deployments if d.task_definition != task_definition)

    def running_of(self, task_definition: str | None) -> int:
        """Running tasks of one revision."""
        return sum(d.running_count for d in self.deployments if d.task_definition == task_definition)

    def fingerprint(self) -> str:
        """What a person changes when they act on a service: revisions, deployments, desired count.

        Running and failed counts are left out: they move on their own every few seconds. A string,
        so it survives the audit record's JSON round trip unchanged.
        """
        deployments = sorted(f"{d.id}={d.task_definition}:{d.status}" for d in self.deployments)
        return "|".join([self.task_definition, str(self.desired_count), *deployments])


class ContainmentPolicy(_Frozen):
    """The account's containment settings (CDK context); tags can only lower them."""

    mode: Mode = Mode.DRY_RUN
    cooldown: timedelta = timedelta(minutes=30)  # per service, after any action
    hourly_cap: int = 10  # actions per account in any 60 minutes
    approval_window: timedelta = timedelta(minutes=60)  # approve mode: how long a proposal can be approved


class ApiCall(_Frozen):
    """One AWS API call exactly as it is (or would be) made."""

    service: str  # botocore service name: ecs | application-autoscaling
    operation: str  # ECS API name, e.g. StopServiceDeployment
    params: dict[str, Any] = Field(default_factory=dict)


class Counts(_Frozen):
    """The numbers an action changes, before it and as expected after it."""

    task_definition: str | None = None
    desired_count: int = 0
    running_count: int = 0


class Action(_Frozen):
    """What containment decided for one incident of one service."""

    kind: ActionKind
    mode: Mode  # the effective mode: ENFORCE makes `calls`, DRY_RUN reports them, NOTIFY has none
    service: str  # service key: account/region/cluster/service
    incident_id: str
    reason: str
    calls: tuple[ApiCall, ...] = ()
    # Made instead of `calls` when ECS refuses the first (StopServiceDeployment → UpdateService).
    fallback_calls: tuple[ApiCall, ...] = ()
    would_have: ActionKind | None = None  # what guards or policy held back, for the message
    notify_people: bool = True  # False only for `ignore`
    before: Counts = Field(default_factory=Counts)
    after: Counts = Field(default_factory=Counts)
    fingerprint: str = ""  # of the view decided on: a re-read that differs stands down
    deployment_id: str | None = None  # the incident's deployment when decided: one action per deployment
    # What undo needs, recorded before anything changes.
    previous_desired_count: int | None = None
    previous_task_definition: str | None = None
    previous_scaling: ScalingView | None = None

    @property
    def acts(self) -> bool:
        """Whether carrying it out makes AWS calls."""
        return self.mode is Mode.ENFORCE and self.kind.changes_service and bool(self.calls)


def action_on(view: ServiceView, *, kind: ActionKind, mode: Mode, service: str, incident_id: str) -> Action:
    """An action about `view` that changes nothing yet: the counts before it, the fingerprint a re-read
    is compared with, and what undo needs (desired count and revision as they were)."""
    return Action(
        kind=kind,
        mode=mode,
        service=service,
        incident_id=incident_id,
        reason="",
        before=Counts(
            task_definition=view.task_definition, desired_count=view.desired_count, running_count=view.running_count
        ),
        fingerprint=view.fingerprint(),
        previous_desired_count=view.desired_count,
        previous_task_definition=view.task_definition,
    )


class CallRefused(Exception):
    """ECS refused a call for a reason a fallback can work around (ConflictException,
    UnsupportedFeatureException on StopServiceDeployment)."""

    def __init__(self, call: ApiCall, code: str, message: str) -> None:
        super().__init__(f"{call.operation} refused: {code}: {message}")
        self.call, self.code, self.message = call, code, message


class CallOutcomeUnknown(Exception):
    """A call's answer was lost — a read timeout, a closed connection, a 5xx after the SDK's retries —
    so ECS may have applied it or not."""

    def __init__(self, call: ApiCall, problem: str) -> None:
        super().__init__(f"{call.operation}: no answer ({problem}): it may or may not have been applied")
        self.call = call


class Outcome(StrEnum):
    DONE = "done"  # the calls were made
    FALLBACK_DONE = "fallback_done"  # the first call was refused; the fallback was made
    DRY_RUN = "dry_run"  # reported, not made
    PROPOSED = "proposed"  # approve mode: decided as enforce, waiting for a person's approval; not made
    NOT_ACTED = "not_acted"  # notify only or stand down
    REFUSED = "refused"  # ECS refused and there was no fallback
    FAILED = "failed"  # an error part-way: `calls_made` says how far it got; the failed call was not applied
    # A call's answer was lost (timeout, connection closed, a 5xx): ECS may or may not have applied it.
    # The next look at the service settles it (contain/step.py).
    UNKNOWN = "unknown"


TOOK_EFFECT = frozenset({Outcome.DONE, Outcome.FALLBACK_DONE})
NOT_APPLIED = frozenset({Outcome.FAILED, Outcome.REFUSED})  # ECS answered that the call was not applied
# Decided again after the recheck interval: nothing is known to have changed the service.
RETRIED = NOT_APPLIED | {Outcome.UNKNOWN}


class ActionRecord(_Frozen):
    """The audit entry of one decision, and what undo reads."""

    action: Action
    outcome: Outcome
    at: datetime
    calls_made: tuple[ApiCall, ...] = ()
    error: str | None = None
    # How the outcome is known when not from the calls' answers: e.g. the service described after the
    # record of the calls was lost shows the action's effect.
    note: str | None = None

    @property
    def took_effect(self) -> bool:
        return self.outcome in TOOK_EFFECT

    @property
    def retry_later(self) -> bool:
        """Whether the incident is decided again after the recheck interval: nothing is known to have
        changed the service (a failure, a refusal, an answer lost), or a guard held the action back."""
        if self.outcome in RETRIED:
            return True
        return self.outcome is Outcome.NOT_ACTED and self.action.would_have is not None
