"""The deployment gate: PAUSE hooks (ContinueServiceDeployment) and Lambda hooks (hookStatus)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ecs_watchdog.gate.hooks import (
    FIRST_ASKED_KEY,
    GateVerdict,
    LambdaHookPayload,
    PauseHook,
    answer_lambda_hook,
    decide_pause_hook,
)
from tests.unit.containment_builders import DEPLOYMENT_ARN, NOW, SERVICE_ARN

HOOK_DETAIL = {
    "hookId": "hook-7",
    "hookType": "PAUSE",
    "lifecycleStage": "POST_SCALE_UP",
    "expiresAt": (NOW + timedelta(minutes=30)).isoformat(),
    "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    "serviceArn": SERVICE_ARN,
    "serviceDeploymentArn": DEPLOYMENT_ARN,
}
HOOK = PauseHook.model_validate(HOOK_DETAIL)
PAYLOAD = LambdaHookPayload.model_validate(
    {
        "executionId": "execution-1",
        "lifecycleStage": "POST_SCALE_UP",
        "resourceArn": DEPLOYMENT_ARN,
        "executionDetails": {
            "serviceArn": SERVICE_ARN,
            "targetServiceRevisionArn": "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/api/0123",
            "testTrafficWeights": {},
            "productionTrafficWeights": {},
        },
    }
)


def test_a_held_back_target_rolls_back() -> None:
    decision = decide_pause_hook(HOOK, target_held=True, now=NOW)
    assert decision.verdict is GateVerdict.ROLLBACK
    assert decision.call is not None
    assert decision.call.params == {"serviceDeploymentArn": DEPLOYMENT_ARN, "hookId": "hook-7", "action": "ROLLBACK"}


def test_a_target_not_held_back_continues() -> None:
    decision = decide_pause_hook(HOOK, target_held=False, now=NOW)
    assert decision.verdict is GateVerdict.CONTINUE
    assert decision.call is not None and decision.call.params["action"] == "CONTINUE"


def test_undecided_waits_and_rechecks_before_expiry() -> None:
    decision = decide_pause_hook(HOOK, target_held=None, now=NOW)
    assert decision.verdict is GateVerdict.WAIT
    assert decision.call is None
    assert decision.recheck_at is not None and decision.recheck_at < HOOK.expires_at


def test_undecided_near_expiry_continues_rather_than_leave_it_to_the_timeout_action() -> None:
    decision = decide_pause_hook(HOOK, target_held=None, now=HOOK.expires_at - timedelta(minutes=1))
    assert decision.verdict is GateVerdict.CONTINUE


def test_recheck_never_lands_after_the_deadline() -> None:
    now = HOOK.expires_at - timedelta(minutes=2, seconds=30)
    decision = decide_pause_hook(HOOK, target_held=None, now=now, recheck_every=timedelta(minutes=5))
    assert decision.recheck_at == HOOK.expires_at - timedelta(minutes=2)


def answer(**kwargs: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"target_held": None, "rolling_back": False, "now": NOW}
    values.update(kwargs)
    payload = values.pop("payload", PAYLOAD)
    if "stage" in values:
        payload = payload.model_copy(update={"lifecycle_stage": values.pop("stage")})
    return answer_lambda_hook(payload, **values)


def test_lambda_hook_fails_a_held_back_target() -> None:
    assert answer(target_held=True) == {"hookStatus": "FAILED"}


def test_lambda_hook_succeeds_a_target_without_one() -> None:
    assert answer(target_held=False) == {"hookStatus": "SUCCEEDED"}


def test_lambda_hook_asks_again_while_undecided() -> None:
    response = answer(callback_delay=45)
    assert response["hookStatus"] == "IN_PROGRESS"
    assert response["callBackDelay"] == 45
    assert response["hookDetails"][FIRST_ASKED_KEY] == NOW.isoformat()


def test_lambda_hook_stops_waiting_after_the_limit() -> None:
    first = answer()
    later = PAYLOAD.model_copy(update={"hook_details": first["hookDetails"]})
    assert answer(payload=later, now=NOW + timedelta(minutes=10))["hookStatus"] == "IN_PROGRESS"
    assert answer(payload=later, now=NOW + timedelta(minutes=15)) == {"hookStatus": "SUCCEEDED"}


def test_lambda_hook_fails_open_on_the_watchdogs_own_trouble() -> None:
    assert answer(target_held=True, watchdog_trouble=True) == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("stage", ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"])
def test_traffic_shift_hooks_during_a_rollback_never_block(stage: str) -> None:
    assert answer(target_held=True, rolling_back=True, stage=stage) == {"hookStatus": "SUCCEEDED"}


def test_a_rollback_does_not_unblock_other_stages() -> None:
    assert answer(target_held=True, rolling_back=True, stage="POST_SCALE_UP") == {"hookStatus": "FAILED"}
