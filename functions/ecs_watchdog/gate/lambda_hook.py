"""The Lambda lifecycle hook: may this deployment's target revision go on? Answered from the state table.

ECS invokes the function with the lifecycle stage and, in `executionDetails`, the service and the target
service revision (`gate.hooks.LambdaHookPayload`); the revision is mapped to its task definition, and the
service's state item says whether the gate holds that task definition back (`gate.target`). The answer
comes from `gate.hooks.answer_lambda_hook`. Fail-open throughout: a Lambda hook that errors or answers
badly ROLLS THE DEPLOYMENT BACK, so every trouble of the watchdog's own — a payload it cannot read, ECS or
DynamoDB unreachable, a permission missing — answers SUCCEEDED and is logged as an error.

Only enforce mode — the account's (WATCHDOG_MODE) and the service's (`ecs-watchdog:action` tags only lower
it) — may hold a deployment: FAILED really rolls it back, and IN_PROGRESS delays it. In dry-run the hook
decides as in enforce and answers SUCCEEDED, saying what it would have answered; in notify it does not judge.
The operator's kill switch lowers enforce to dry-run here too (an unreadable switch counts as engaged).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.contain.decision import effective_mode
from ecs_watchdog.contain.models import Mode, ServiceTagAction
from ecs_watchdog.gate.hooks import HELD_BACK, LambdaHookPayload, answer_lambda_hook
from ecs_watchdog.gate.target import revision_held_back
from ecs_watchdog.incidents.model import ServiceState
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)

SUCCEEDED = {"hookStatus": "SUCCEEDED"}
GIVE_UP_AFTER = timedelta(minutes=15)  # answer_lambda_hook's longest wait while undecided


class RevisionLookup(Protocol):
    def task_definition_of(self, revision_arn: str) -> str: ...

    def rolling_back(self, cluster: str, service: str) -> bool: ...

    def service_tags(self, service_arn: str) -> dict[str, str]: ...


class KillSwitchReader(Protocol):
    def engaged(self) -> bool: ...


class ServiceStore(Protocol):
    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None: ...


class HookAnswer(BaseModel):
    """The function's return value, and why, for the log."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    response: dict[str, Any]
    reason: str
    trouble: bool = False  # the watchdog's own trouble made it answer SUCCEEDED
    service: str | None = None
    task_definition: str | None = None
    lifecycle_stage: str | None = None
    execution_id: str | None = None  # ECS's id of this hook execution, for the log


class HookSettings(BaseModel):
    """The hook function's environment, validated at cold start."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    state_table_name: str = Field(min_length=1)
    mode: Mode = Mode.DRY_RUN  # WATCHDOG_MODE: the account's ceiling, as for the events function


class LambdaHookGate:
    """Answers one Lambda lifecycle hook invocation; never raises."""

    def __init__(
        self,
        revisions: RevisionLookup,
        store: ServiceStore,
        *,
        mode: Mode,
        callback_delay: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        preflight_wait: timedelta | None = None,
        kill_switch: KillSwitchReader | None = None,
    ) -> None:
        self._revisions = revisions
        self._store = store
        self._mode = mode
        self._callback_delay = callback_delay
        self._clock = clock
        # At PRE_SCALE_UP, how long to answer IN_PROGRESS until the events function has run the new
        # deployment's preflight (its IN_PROGRESS event recorded); then SUCCEEDED. None: never wait.
        self._preflight_wait = preflight_wait
        self._kill_switch = kill_switch

    def answer(self, event: Any) -> HookAnswer:
        """The hook's answer to ECS: SUCCEEDED, FAILED, or IN_PROGRESS with callBackDelay."""
        try:
            payload = LambdaHookPayload.model_validate(event)
        except ValidationError as error:
            return _trouble(f"the hook payload is not one ECS sends: {_first_problem(error)}")
        ref = ServiceRef.from_arn(payload.service_arn)
        if ref is None:
            return _trouble(f"executionDetails.serviceArn {payload.service_arn!r} names no ECS service")
        about = {"service": ref.key, "lifecycle_stage": payload.lifecycle_stage, "execution_id": payload.execution_id}
        try:
            return self._in_mode(payload, ref).model_copy(update=about)
        except Exception as error:  # any escape would roll the customer's deployment back: fail open
            return _trouble(f"{type(error).__name__}: {error}", **about)

    def _in_mode(self, payload: LambdaHookPayload, ref: ServiceRef) -> HookAnswer:
        """The decision as the mode allows it: below enforce, SUCCEEDED at once, whatever was decided."""
        if self._mode is Mode.NOTIFY:
            return _fail_open("notify mode: the watchdog does not judge deployments")
        tag, problem = ServiceTagAction.from_tags(self._revisions.service_tags(payload.service_arn))
        if problem:
            logger.warning("ignoring an invalid service tag", extra={"service_key": ref.key, "problem": problem})
        mode = effective_mode(self._mode, tag, kill_switch=False)
        if mode is Mode.NOTIFY:
            return _fail_open(f"the service is tagged ecs-watchdog:action={tag}: the watchdog does not judge it")
        held_by = ""
        if mode is Mode.ENFORCE and self._kill_switch_engaged():
            mode, held_by = Mode.DRY_RUN, "the kill switch is engaged, so "
        decided = self._decide(payload, ref)
        if mode is Mode.ENFORCE or decided.response["hookStatus"] == "SUCCEEDED":
            return decided
        would = decided.response["hookStatus"]
        why = f"{held_by}{mode}: would answer {would}: {decided.reason}"  # any mode below enforce fails open
        return decided.model_copy(update={"response": dict(SUCCEEDED), "reason": why})

    def _kill_switch_engaged(self) -> bool:
        if self._kill_switch is None:
            return False
        try:
            return self._kill_switch.engaged()
        except Exception as error:  # an unreadable switch is an engaged one: never hold a deployment on doubt
            logger.error("kill switch unreadable: treated as engaged", extra={"problem": str(error)})
            return True

    def _decide(self, payload: LambdaHookPayload, ref: ServiceRef) -> HookAnswer:
        task_definition = self._revisions.task_definition_of(payload.target_service_revision_arn)
        state = self._store.load_service(ref.key, fresh=True)
        verdict = revision_held_back(state, task_definition)
        awaiting_preflight = verdict is False and self._awaits_preflight(payload, state, task_definition)
        if awaiting_preflight:
            verdict = None
        # Only an answer that could hold the deployment needs to know whether ECS is rolling back.
        rolling_back = verdict is not False and self._revisions.rolling_back(ref.cluster, ref.name)
        response = answer_lambda_hook(
            payload,
            target_held=verdict,
            rolling_back=rolling_back,
            now=self._clock(),
            callback_delay=self._callback_delay,
            give_up_after=self._preflight_wait if awaiting_preflight and self._preflight_wait else GIVE_UP_AFTER,
        )
        reason = _reason(verdict, rolling_back, response["hookStatus"])
        if awaiting_preflight:
            reason = (
                "the new deployment's preflight has not run yet: ask again"
                if response["hookStatus"] == "IN_PROGRESS"
                else "no preflight of the new deployment after the longest wait: let it continue"
            )
        return HookAnswer(response=response, reason=reason, task_definition=task_definition)

    def _awaits_preflight(self, payload: LambdaHookPayload, state: ServiceState | None, task_definition: str) -> bool:
        """At PRE_SCALE_UP, whether the events function has yet to see the deployment of this revision (its
        IN_PROGRESS event is where the preflight runs; a fail there opens the incident that holds it back)."""
        if self._preflight_wait is None or payload.lifecycle_stage != "PRE_SCALE_UP":
            return False
        deployments = state.deployments.values() if state is not None else ()
        return not any(d.task_definition == task_definition and d.status == "IN_PROGRESS" for d in deployments)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def _reason(verdict: bool | None, rolling_back: bool, status: str) -> str:
    if rolling_back and status == "SUCCEEDED":
        return "a rollback is in progress: a traffic-shift hook never blocks it"
    if verdict is True:
        return f"the target revision is held back ({HELD_BACK}): roll back"
    if verdict is None:
        return (
            "the target revision failed since it was last healthy, without an incident yet: ask again"
            if status == "IN_PROGRESS"
            else "still undecided after the longest wait: let it continue"
        )
    return "the target revision is not held back"


def _fail_open(why: str) -> HookAnswer:
    return HookAnswer(response=dict(SUCCEEDED), reason=f"{why}; answered SUCCEEDED, as if there were no hook")


def _trouble(reason: str, **about: str) -> HookAnswer:
    logger.error("lifecycle hook answered SUCCEEDED on the watchdog's own trouble", extra={"reason": reason, **about})
    return HookAnswer(response=dict(SUCCEEDED), reason=reason, trouble=True, **about)
