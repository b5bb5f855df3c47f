"""The deployment gate: answer ECS lifecycle hooks from what the watchdog knows about a revision.

Pure. Two kinds of hook:
- a PAUSE hook emits `ECS Hook State Change` (HOOK_AWAITING_ACTION) and waits for
  ContinueServiceDeployment(CONTINUE | ROLLBACK); when it expires, ECS takes the hook's
  `timeoutConfiguration.action` (CONTINUE or ROLLBACK; ROLLBACK unless configured otherwise);
- a Lambda hook calls a function that returns `hookStatus` SUCCEEDED | FAILED | IN_PROGRESS
  (with `callBackDelay`); an error or an invalid answer rolls back.

The watchdog's own trouble must not block a deployment: when it cannot tell, it lets the deployment
continue (fail-open) before the hook's deadline. Traffic-shift hooks also run while ECS rolls back;
those are never blocked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from ecs_watchdog.contain.models import ApiCall, _Frozen

TRAFFIC_SHIFT_STAGES = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})
FIRST_ASKED_KEY = "ecsWatchdogFirstAsked"  # in hookDetails: carried between Lambda hook invocations
HELD_BACK = "an open or contained incident, or rolled back since it was last healthy"


class GateVerdict(StrEnum):
    CONTINUE = "CONTINUE"
    ROLLBACK = "ROLLBACK"
    WAIT = "WAIT"  # undecided: decide again at `recheck_at`


class PauseHook(_Frozen):
    """The detail of an `ECS Hook State Change` event in HOOK_AWAITING_ACTION."""

    hook_id: str = Field(alias="hookId")
    hook_type: str = Field(default="", alias="hookType")
    lifecycle_stage: str = Field(default="", alias="lifecycleStage")
    expires_at: datetime = Field(alias="expiresAt")
    cluster_arn: str = Field(default="", alias="clusterArn")
    service_arn: str = Field(default="", alias="serviceArn")
    service_deployment_arn: str = Field(alias="serviceDeploymentArn")


class GateDecision(_Frozen):
    verdict: GateVerdict
    reason: str
    call: ApiCall | None = None  # ContinueServiceDeployment, when the verdict is made
    recheck_at: datetime | None = None


def decide_pause_hook(
    hook: PauseHook,
    *,
    target_held: bool | None,
    now: datetime,
    recheck_every: timedelta = timedelta(minutes=1),
    deadline_margin: timedelta = timedelta(minutes=2),
) -> GateDecision:
    """ROLLBACK when the target revision is held back (gate/target.py), CONTINUE when it is not, WAIT
    while undecided (`None`) — and CONTINUE once the hook is within `deadline_margin` of expiring."""
    if target_held is True:
        return pause_answer(hook, GateVerdict.ROLLBACK, "the target revision is held back: " + HELD_BACK)
    if target_held is False:
        return pause_answer(hook, GateVerdict.CONTINUE, "the target revision is not held back")
    deadline = hook.expires_at - deadline_margin
    if now >= deadline:
        return pause_answer(
            hook,
            GateVerdict.CONTINUE,
            "still undecided near the hook's expiry: the watchdog lets it continue rather than leave it to "
            "its timeout action (ROLLBACK unless the hook says CONTINUE)",
        )
    return GateDecision(
        verdict=GateVerdict.WAIT,
        reason="not enough known about the target revision yet",
        recheck_at=min(now + recheck_every, deadline),
    )


def pause_answer(hook: PauseHook, verdict: GateVerdict, reason: str) -> GateDecision:
    """The decision to answer the hook `verdict` with ContinueServiceDeployment."""
    call = ApiCall(
        service="ecs",
        operation="ContinueServiceDeployment",
        params={"serviceDeploymentArn": hook.service_deployment_arn, "hookId": hook.hook_id, "action": verdict.value},
    )
    return GateDecision(verdict=verdict, reason=reason, call=call)


# botocore's DeploymentLifecycleHookStage (ecs 2014-11-13). ECS names one in every Lambda hook invocation
# (`lifecycleStage`) and in every `ECS Hook State Change`. There is no rollback stage: while ECS rolls a
# deployment back it runs the TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks again.
LIFECYCLE_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)


class HookExecutionDetails(_Frozen):
    """`executionDetails` of a Lambda hook invocation: the service and the revision being deployed (the
    traffic weights, revision ARN to percent, are read as ECS sends them; the gate does not use them)."""

    service_arn: str = Field(alias="serviceArn")
    target_service_revision_arn: str = Field(alias="targetServiceRevisionArn")
    test_traffic_weights: dict[str, Any] = Field(default_factory=dict, alias="testTrafficWeights")
    production_traffic_weights: dict[str, Any] = Field(default_factory=dict, alias="productionTrafficWeights")


class LambdaHookPayload(_Frozen):
    """What ECS sends a Lambda lifecycle hook ("Lambda hooks for Amazon ECS service deployments", ECS
    developer guide): the execution, its stage and the service deployment (`resourceArn`) at the top,
    the service and the target revision in `executionDetails`, and `hookDetails` — the hook's own
    configuration, or what the previous invocation returned with IN_PROGRESS."""

    execution_id: str = Field(default="", alias="executionId")
    lifecycle_stage: str = Field(alias="lifecycleStage", min_length=1)
    resource_arn: str = Field(default="", alias="resourceArn")  # the service deployment
    execution_details: HookExecutionDetails = Field(alias="executionDetails")
    hook_details: dict[str, Any] = Field(default_factory=dict, alias="hookDetails")

    @field_validator("hook_details", mode="before")
    @classmethod
    def _details_are_an_object(cls, value: Any) -> Any:
        # Only the watchdog's own key is read back from them: details that are not an object hold none.
        return value if isinstance(value, dict) else {}

    @property
    def service_arn(self) -> str:
        return self.execution_details.service_arn

    @property
    def target_service_revision_arn(self) -> str:
        return self.execution_details.target_service_revision_arn


def answer_lambda_hook(
    payload: LambdaHookPayload,
    *,
    target_held: bool | None,
    rolling_back: bool,
    now: datetime,
    watchdog_trouble: bool = False,
    callback_delay: int = 30,
    give_up_after: timedelta = timedelta(minutes=15),
) -> dict[str, Any]:
    """The function's return value: `hookStatus` SUCCEEDED (go on), FAILED (roll back) or
    IN_PROGRESS with `callBackDelay` (ask again) while undecided, for at most `give_up_after`.

    Fail-open: the watchdog's own trouble, or a traffic-shift stage during a rollback, SUCCEEDS.
    """
    if rolling_back and payload.lifecycle_stage in TRAFFIC_SHIFT_STAGES:
        return {"hookStatus": "SUCCEEDED"}
    if watchdog_trouble:
        return {"hookStatus": "SUCCEEDED"}
    if target_held is True:
        return {"hookStatus": "FAILED"}
    if target_held is False:
        return {"hookStatus": "SUCCEEDED"}
    first_asked = _first_asked(payload.hook_details) or now
    if now - first_asked >= give_up_after:
        return {"hookStatus": "SUCCEEDED"}
    return {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": callback_delay,
        "hookDetails": {**payload.hook_details, FIRST_ASKED_KEY: first_asked.isoformat()},
    }


def _first_asked(details: dict[str, Any]) -> datetime | None:
    value = details.get(FIRST_ASKED_KEY)
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
