"""The Lambda lifecycle hook: may this deployment's target revision go on? Answered from the state table.

ECS invokes the function with the service and the target service revision; the revision is mapped to its
task definition, and the service's state item says whether that task definition has an open incident.
The answer comes from `gate.hooks.answer_lambda_hook`. Fail-open throughout: a Lambda hook that errors
or answers badly ROLLS THE DEPLOYMENT BACK, so every trouble of the watchdog's own — a payload it cannot
read, ECS or DynamoDB unreachable, a permission missing — answers SUCCEEDED and is logged as an error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.gate.hooks import TRAFFIC_SHIFT_STAGES, LambdaHookPayload, answer_lambda_hook
from ecs_watchdog.gate.target import target_has_open_incident
from ecs_watchdog.incidents.model import ServiceState
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)

SUCCEEDED = {"hookStatus": "SUCCEEDED"}
# ECS's payload names no stage; operators may name it in the hook's hookDetails (docs/containment.md).
STAGE_DETAIL = "lifecycleStage"


class RevisionLookup(Protocol):
    def task_definition_of(self, revision_arn: str) -> str: ...

    def rolling_back(self, cluster: str, service: str) -> bool: ...


class ServiceStore(Protocol):
    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None: ...


class HookAnswer(BaseModel):
    """The function's return value, and why, for the log."""

    model_config = ConfigDict(frozen=True)

    response: dict[str, Any]
    reason: str
    trouble: bool = False  # the watchdog's own trouble made it answer SUCCEEDED
    service: str | None = None
    task_definition: str | None = None


class HookSettings(BaseModel):
    """The hook function's environment, validated at cold start."""

    model_config = ConfigDict(frozen=True)

    state_table_name: str = Field(min_length=1)


class LambdaHookGate:
    """Answers one Lambda lifecycle hook invocation; never raises."""

    def __init__(
        self,
        revisions: RevisionLookup,
        store: ServiceStore,
        *,
        callback_delay: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._revisions = revisions
        self._store = store
        self._callback_delay = callback_delay
        self._clock = clock

    def answer(self, event: Any) -> HookAnswer:
        """The hook's answer to ECS: SUCCEEDED, FAILED, or IN_PROGRESS with callBackDelay."""
        try:
            payload = LambdaHookPayload.model_validate(event)
        except ValidationError as error:
            return _trouble(f"the hook payload is not one ECS sends: {error.errors()[0]['msg']}")
        ref = ServiceRef.from_arn(payload.service_arn)
        if ref is None:
            return _trouble(f"serviceArn {payload.service_arn!r} names no ECS service")
        try:
            return self._decide(payload, ref)
        except Exception as error:  # any escape would roll the customer's deployment back: fail open
            answer = _trouble(f"{type(error).__name__}: {error}", service=ref.key)
            response = answer_lambda_hook(
                payload, target_has_open_incident=None, rolling_back=False, now=self._clock(), watchdog_trouble=True
            )
            return answer.model_copy(update={"response": response})

    def _decide(self, payload: LambdaHookPayload, ref: ServiceRef) -> HookAnswer:
        task_definition = self._revisions.task_definition_of(payload.target_service_revision_arn)
        verdict = target_has_open_incident(self._store.load_service(ref.key, fresh=True), task_definition)
        # Only an answer that could hold the deployment needs to know whether ECS is rolling back.
        rolling_back = verdict is not False and self._revisions.rolling_back(ref.cluster, ref.name)
        response = answer_lambda_hook(
            payload,
            target_has_open_incident=verdict,
            rolling_back=rolling_back,
            now=self._clock(),
            lifecycle_stage=_stage(payload, rolling_back),
            callback_delay=self._callback_delay,
        )
        return HookAnswer(
            response=response,
            reason=_reason(verdict, rolling_back, response["hookStatus"]),
            service=ref.key,
            task_definition=task_definition,
        )


def _stage(payload: LambdaHookPayload, rolling_back: bool) -> str | None:
    """The lifecycle stage: the payload's, else the one hookDetails names. During a rollback ECS runs only
    traffic-shift hooks, so an unnamed stage then is one of them."""
    named = payload.lifecycle_stage or payload.hook_details.get(STAGE_DETAIL)
    if isinstance(named, str) and named:
        return named
    return min(TRAFFIC_SHIFT_STAGES) if rolling_back else None


def _reason(verdict: bool | None, rolling_back: bool, status: str) -> str:
    if rolling_back and status == "SUCCEEDED":
        return "a rollback is in progress: a traffic-shift hook never blocks it"
    if verdict is True:
        return "the target revision has an open incident: roll back"
    if verdict is None:
        return (
            "the target revision failed since it was last healthy, without an incident yet: ask again"
            if status == "IN_PROGRESS"
            else "still undecided after the longest wait: let it continue"
        )
    return "the target revision has no open incident"


def _trouble(reason: str, service: str | None = None) -> HookAnswer:
    logger.error("lifecycle hook answered SUCCEEDED on the watchdog's own trouble", extra={"reason": reason})
    return HookAnswer(response=dict(SUCCEEDED), reason=reason, trouble=True, service=service)
