"""The deployment gate: answer an ECS PAUSE lifecycle hook (`ECS Hook State Change`,
HOOK_AWAITING_ACTION) from what the watchdog knows about the revision being deployed.

For services that opt in (tag `ecs-watchdog:gate` = `on`): CONTINUE when the target revision has no
open incident, ROLLBACK when it has one; while undecided (it failed, but fewer times than open an
incident), decide again later — the event is put back on the events queue with an SQS delay (at most
15 minutes, and never past the hook's expiry less a margin), so the hook is never left to time out
silently. Near the expiry an undecided gate CONTINUEs: the watchdog's own doubt must not roll a
customer's deployment back (gate/hooks.py). Dry-run reports the answer it would give; notify mode
leaves hooks alone. No boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from ecs_watchdog.contain.models import ApiCall, CallRefused, Mode, ServiceView
from ecs_watchdog.gate.hooks import GateDecision, GateVerdict, PauseHook, decide_pause_hook
from ecs_watchdog.gate.target import target_has_open_incident
from ecs_watchdog.incidents.model import ServiceState

logger = Logger(child=True)

GATE_TAG = "ecs-watchdog:gate"
AWAITING = "HOOK_AWAITING_ACTION"
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds


class HookActions(Protocol):
    def describe_service_view(self, cluster: str, service: str) -> ServiceView | None: ...
    def make(self, call: ApiCall) -> None: ...


class Rechecks(Protocol):
    def later(self, body: str, delay_seconds: int) -> object: ...


@dataclass(frozen=True)
class GateAnswer:
    verdict: str  # CONTINUE | ROLLBACK | WAIT | skipped
    reason: str
    call: ApiCall | None = None
    made: bool = False


def awaiting(detail: dict[str, object]) -> bool:
    """Whether a hook event asks for an answer (ECS names the state in `eventName` or `status`)."""
    return AWAITING in (detail.get("eventName"), detail.get("status"), detail.get("hookStatus"))


@dataclass
class DeploymentGate:
    actions: HookActions
    mode: Mode
    rechecks: Rechecks | None = None

    def answer(self, detail: dict[str, object], body: str, state: ServiceState | None, now: datetime) -> GateAnswer:
        """Decide for one HOOK_AWAITING_ACTION and carry it out as the mode allows."""
        if self.mode is Mode.NOTIFY:
            return GateAnswer("skipped", "notify mode: the watchdog does not answer lifecycle hooks")
        try:
            hook = PauseHook.model_validate(detail)
        except ValidationError as error:
            return GateAnswer("skipped", f"hook event without what an answer needs: {error.errors()[0]['loc']}")
        cluster, service = hook.cluster_arn.rsplit("/", 1)[-1], hook.service_arn.rsplit("/", 1)[-1]
        view = self.actions.describe_service_view(cluster, service)
        if view is None or view.tags.get(GATE_TAG, "").lower() != "on":
            return GateAnswer("skipped", f"the service has not opted in (tag {GATE_TAG}=on)")
        target = next((d.task_definition for d in view.in_progress() if d.status == "PRIMARY"), None)
        verdict = target_has_open_incident(state, target) if target else None
        decision = decide_pause_hook(hook, target_has_open_incident=verdict, now=now)
        if decision.verdict is GateVerdict.WAIT:
            return self._later(decision, body, now)
        return self._carry_out(decision)

    def _carry_out(self, decision: GateDecision) -> GateAnswer:
        if self.mode is not Mode.ENFORCE or decision.call is None:
            return GateAnswer(
                str(decision.verdict), f"dry-run: would answer {decision.verdict}: {decision.reason}", decision.call
            )
        try:
            self.actions.make(decision.call)
        except CallRefused as refused:  # the hook is no longer waiting (answered, expired, rolled back)
            return GateAnswer(str(decision.verdict), f"ECS refused the answer: {refused}", decision.call)
        logger.info("lifecycle hook answered", extra={"verdict": str(decision.verdict), "reason": decision.reason})
        return GateAnswer(str(decision.verdict), decision.reason, decision.call, made=True)

    def _later(self, decision: GateDecision, body: str, now: datetime) -> GateAnswer:
        recheck_at = decision.recheck_at or now
        delay = max(1, min(MAX_DELAY_SECONDS, int((recheck_at - now).total_seconds())))
        if self.rechecks is None:
            return GateAnswer("WAIT", f"{decision.reason}; no recheck queue configured: ECS's timeout will decide")
        self.rechecks.later(body, delay)
        return GateAnswer("WAIT", f"{decision.reason}; deciding again in {delay} s")
