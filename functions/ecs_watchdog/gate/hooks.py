"""The deployment gate: answer ECS lifecycle hooks from what the watchdog knows about a revision.

Pure. Two kinds of hook:
- a PAUSE hook emits `ECS Hook State Change` (HOOK_AWAITING_ACTION) and waits for
  ContinueServiceDeployment(CONTINUE | ROLLBACK); when it expires, ECS rolls back;
- a Lambda hook calls a function that returns `hookStatus` SUCCEEDED | FAILED | IN_PROGRESS
  (with `callBackDelay`); an error or an invalid answer rolls back.

Both expire into a rollback, so the watchdog's own trouble must not block a deployment: when it
cannot tell, it lets the deployment continue (fail-open) before the hook's deadline. Traffic-shift
hooks also run while ECS rolls back; those are never blocked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import Field

from ecs_watchdog.contain.models import ApiCall, _Frozen

TRAFFIC_SHIFT_STAGES = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})
FIRST_ASKED_KEY = "ecsWatchdogFirstAsked"  # in hookDetails: carried between Lambda hook invocations


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
    target_has_open_incident: bool | None,
    now: datetime,
    recheck_every: timedelta = timedelta(minutes=1),
    deadline_margin: timedelta = timedelta(minutes=2),
) -> GateDecision:
    """CONTINUE when the target revision has no open incident, ROLLBACK when it has one, WAIT while
    undecided (`None`) — and CONTINUE once the hook is within `deadline_margin` of expiring."""
    if target_has_open_incident is True:
        return _answer(hook, GateVerdict.ROLLBACK, "the target revision has an open incident")
    if target_has_open_incident is False:
        return _answer(hook, GateVerdict.CONTINUE, "the target revision has no open incident")
    deadline = hook.expires_at - deadline_margin
    if now >= deadline:
        return _answer(
            hook,
            GateVerdict.CONTINUE,
            "still undecided near the hook's expiry, which would roll back: the watchdog lets it continue",
        )
    return GateDecision(
        verdict=GateVerdict.WAIT,
        reason="not enough known about the target revision yet",
        recheck_at=min(now + recheck_every, deadline),
    )


def _answer(hook: PauseHook, verdict: GateVerdict, reason: str) -> GateDecision:
    call = ApiCall(
        service="ecs",
        operation="ContinueServiceDeployment",
        params={"serviceDeploymentArn": hook.service_deployment_arn, "hookId": hook.hook_id, "action": verdict.value},
    )
    return GateDecision(verdict=verdict, reason=reason, call=call)


class LambdaHookPayload(_Frozen):
    """What ECS sends a Lambda lifecycle hook (common fields; no hookId)."""

    service_arn: str = Field(alias="serviceArn")
    target_service_revision_arn: str = Field(alias="targetServiceRevisionArn")
    lifecycle_stage: str = Field(default="", alias="lifecycleStage")
    hook_details: dict[str, Any] = Field(default_factory=dict, alias="hookDetails")


def answer_lambda_hook(
    payload: LambdaHookPayload,
    *,
    target_has_open_incident: bool | None,
    rolling_back: bool,
    now: datetime,
    lifecycle_stage: str | None = None,
    watchdog_trouble: bool = False,
    callback_delay: int = 30,
    give_up_after: timedelta = timedelta(minutes=15),
) -> dict[str, Any]:
    """The function's return value: `hookStatus` SUCCEEDED (go on), FAILED (roll back) or
    IN_PROGRESS with `callBackDelay` (ask again) while undecided, for at most `give_up_after`.

    Fail-open: the watchdog's own trouble, or a traffic-shift stage during a rollback, SUCCEEDS.
    """
    stage = lifecycle_stage or payload.lifecycle_stage
    if rolling_back and stage in TRAFFIC_SHIFT_STAGES:
        return {"hookStatus": "SUCCEEDED"}
    if watchdog_trouble:
        return {"hookStatus": "SUCCEEDED"}
    if target_has_open_incident is True:
        return {"hookStatus": "FAILED"}
    if target_has_open_incident is False:
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
