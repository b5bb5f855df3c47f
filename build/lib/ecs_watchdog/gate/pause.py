"""The deployment gate: answer an ECS PAUSE lifecycle hook (`ECS Hook State Change`,
HOOK_AWAITING_ACTION) from what the watchdog knows about the revision being deployed.

For services that opt in (tag `ecs-watchdog:gate` = `on`): CONTINUE when the target revision is not held
back, ROLLBACK when it is (gate/target.py); while undecided (it failed, but fewer times than open an
incident), decide again later — the event is put back on the events queue with an SQS delay (at most
15 minutes, and never past the hook's expiry less a margin), so the hook is never left to time out
silently. Near the expiry an undecided gate CONTINUEs: the watchdog's own doubt must not leave a
customer's deployment to the hook's timeout action (ROLLBACK unless configured otherwise).

Each hook is answered once (gate/answers.py): a duplicate event, or one of a hook another invocation is
answering, is left alone; an event that arrives after `expiresAt` is skipped (ECS has taken the hook's
timeout action); ECS's "no longer awaiting action" refusal means the hook was answered already — logged
and counted, never retried. Other errors (throttling, a 5xx) propagate, so SQS retries the event.

Dry-run and notify mode fail open: a hook a service owner pointed at the watchdog is answered CONTINUE —
as if there were no hook — and dry-run says what it would have answered. Left unanswered it would wait
until it expires (a day by default) and then take its timeout action, ROLLBACK unless configured
otherwise: a healthy deployment rolled back because the watchdog only watches. No boto3 here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from ecs_watchdog.conflicts import StaleWrite, retry_on_conflict
from ecs_watchdog.contain.models import ApiCall, CallRefused, Mode, ServiceView
from ecs_watchdog.gate.answers import AnswerStatus, HookAnswerRecord, answered, claim, released
from ecs_watchdog.gate.hooks import GateDecision, GateVerdict, PauseHook, decide_pause_hook
from ecs_watchdog.gate.target import revision_held_back
from ecs_watchdog.incidents.model import ServiceState
from ecs_watchdog.incidents.service_ref import ServiceDeploymentRef, ServiceRef

logger = Logger(child=True)

GATE_TAG = "ecs-watchdog:gate"
AWAITING = "HOOK_AWAITING_ACTION"
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds
# How ECS refuses ContinueServiceDeployment for a hook that no longer awaits action, or a deployment that is
# no longer IN_PROGRESS (answered already, expired, rolled back) or gone: the hook has its answer.
NO_LONGER_AWAITING = frozenset({"InvalidParameterException", "ServiceDeploymentNotFoundException"})


class HookActions(Protocol):
    def describe_service_view(self, cluster: str, service: str) -> ServiceView | None: ...
    def make(self, call: ApiCall) -> None: ...


class Rechecks(Protocol):
    def later(self, body: str, delay_seconds: int) -> object: ...


class AnswerStore(Protocol):
    def load(self, service_deployment_arn: str, hook_id: str) -> HookAnswerRecord | None: ...
    def save(self, record: HookAnswerRecord) -> HookAnswerRecord: ...


@dataclass(frozen=True)
class GateAnswer:
    verdict: str  # CONTINUE | ROLLBACK | WAIT | skipped
    reason: str
    call: ApiCall | None = None
    made: bool = False
    # What became of the event: answered | failed_open (CONTINUE in dry-run or notify mode) | waiting |
    # already_answered | no_longer_awaiting | refused | expired | skipped (the HookAnswers metric's `result`).
    result: str = "skipped"

    @property
    def needs_nothing(self) -> bool:
        """Whether the event asked for nothing the watchdog did (the pipeline's `ignored`)."""
        return self.result in ("skipped", "expired", "already_answered")


def awaiting(detail: dict[str, object]) -> bool:
    """Whether a hook event asks for an answer (ECS names the state in `eventName`)."""
    return AWAITING in (detail.get("eventName"), detail.get("status"), detail.get("hookStatus"))


@dataclass
class DeploymentGate:
    actions: HookActions
    mode: Mode
    rechecks: Rechecks | None = None
    answers: AnswerStore | None = None  # None: nothing remembers answers (each event is answered as it comes)
    lease: timedelta = timedelta(seconds=90)  # how long a claim holds: longer than the function can run

    def answer(self, detail: dict[str, object], body: str, state: ServiceState | None, now: datetime) -> GateAnswer:
        """Decide for one HOOK_AWAITING_ACTION and carry it out as the mode allows."""
        try:
            hook = PauseHook.model_validate(detail)
        except ValidationError as error:
            return GateAnswer("skipped", f"hook event without what an answer needs: {error.errors()[0]['loc']}")
        if now >= hook.expires_at:
            return GateAnswer(
                "skipped",
                f"the hook expired at {hook.expires_at.isoformat()}: ECS has taken its timeout action, "
                "nothing is left to answer",
                result="expired",
            )
        recorded = self.answers.load(hook.service_deployment_arn, hook.hook_id) if self.answers else None
        if recorded is not None and recorded.held_by_another("", now):
            return _already(recorded)
        cluster, service = hook.cluster_arn.rsplit("/", 1)[-1], hook.service_arn.rsplit("/", 1)[-1]
        foreign = _not_the_services_own(hook, cluster, service, None)
        if foreign:
            return _refused_to_answer(hook, foreign)
        view = self.actions.describe_service_view(cluster, service)
        if view is None or view.tags.get(GATE_TAG, "").lower() != "on":
            return GateAnswer("skipped", f"the service has not opted in (tag {GATE_TAG}=on)")
        foreign = _not_the_services_own(hook, cluster, service, view)
        if foreign:
            return _refused_to_answer(hook, foreign)
        if self.mode is Mode.NOTIFY:
            return self._carry_out(
                _fail_open(hook, "notify mode: the watchdog does not judge deployments"), hook, now, recorded, body
            )
        target = next((d.task_definition for d in view.in_progress() if d.status == "PRIMARY"), None)
        verdict = revision_held_back(state, target) if target else None
        decision = decide_pause_hook(hook, target_held=verdict, now=now)
        if self.mode is not Mode.ENFORCE:
            would = "wait" if decision.verdict is GateVerdict.WAIT else f"answer {decision.verdict}"
            decision = _fail_open(hook, f"dry-run: would {would}: {decision.reason}")
        if decision.verdict is GateVerdict.WAIT:
            return self._later(decision, body, now)
        return self._carry_out(decision, hook, now, recorded, body)

    def _carry_out(
        self, decision: GateDecision, hook: PauseHook, now: datetime, recorded: HookAnswerRecord | None, body: str
    ) -> GateAnswer:
        verdict = str(decision.verdict)
        if decision.call is None:
            return GateAnswer(verdict, decision.reason, result="skipped")
        owner = uuid.uuid4().hex
        claimed = self._claim(hook, decision, owner, now, recorded)
        if claimed.owner != owner or claimed.status is not AnswerStatus.CLAIMED:
            return _already(claimed)
        try:
            self.actions.make(decision.call)
        except CallRefused as refused:
            outcome = "no_longer_awaiting" if refused.code in NO_LONGER_AWAITING else "refused"
            self._settle(answered(claimed, outcome, now))
            logger.warning(
                "lifecycle hook answer refused by ECS: not retried",
                extra={"hook_id": hook.hook_id, "verdict": verdict, "code": refused.code, "problem": refused.message},
            )
            why = (
                "the hook no longer awaits action (answered already, expired, or the deployment moved on)"
                if outcome == "no_longer_awaiting"
                else "ECS does not take the answer here"
            )
            return GateAnswer(verdict, f"ECS refused {verdict}: {why} ({refused.code})", decision.call, result=outcome)
        except Exception as error:  # throttled, a 5xx, the answer lost (CallOutcomeUnknown)
            # Not answered, or not known to be: the retry may claim it at once (ECS refuses it if it was).
            self._settle(released(claimed))
            if self.mode is Mode.ENFORCE and self.rechecks is not None:
                # Soon, not after SQS's visibility timeout (minutes): the answer may be due before the hook expires.
                try:
                    self.rechecks.later(body, ANSWER_RETRY_SECONDS)
                except Exception:
                    raise error from None
                return GateAnswer(
                    verdict,
                    f"{verdict} not taken ({type(error).__name__}): trying again in {ANSWER_RETRY_SECONDS} s",
                    decision.call,
                    result="waiting",
                )
            raise
        self._settle(answered(claimed, "made", now))
        logger.info("lifecycle hook answered", extra={"verdict": verdict, "reason": decision.reason})
        result = "answered" if self.mode is Mode.ENFORCE else "failed_open"
        return GateAnswer(verdict, decision.reason, decision.call, made=True, result=result)

    def _claim(
        self, hook: PauseHook, decision: GateDecision, owner: str, now: datetime, recorded: HookAnswerRecord | None
    ) -> HookAnswerRecord:
        """This invocation's claim on the hook, or the answer or claim that stands in its way."""

        def mine(current: HookAnswerRecord | None) -> HookAnswerRecord | None:
            return claim(
                current,
                service_deployment_arn=hook.service_deployment_arn,
                hook_id=hook.hook_id,
                verdict=str(decision.verdict),
                reason=decision.reason,
                owner=owner,
                now=now,
                lease=self.lease,
                hook_expires_at=hook.expires_at,
            )

        store = self.answers
        if store is None:  # nothing remembers answers: the claim exists only here
            unstored = mine(None)
            assert unstored is not None  # a hook nobody claimed is always claimable
            return unstored

        def attempt(n: int) -> HookAnswerRecord:
            current = recorded if n == 0 else store.load(hook.service_deployment_arn, hook.hook_id)
            claimed = mine(current)
            if claimed is None:
                assert current is not None  # only an existing answer or claim refuses one
                return current
            return store.save(claimed)  # StaleWrite when another invocation wrote first: read and decide again

        return retry_on_conflict(attempt, what=f"hook {hook.hook_id}")

    def _settle(self, record: HookAnswerRecord) -> None:
        if self.answers is None:
            return
        try:
            self.answers.save(record)
        except StaleWrite:  # the lease ran out and another invocation took the hook: its answer stands
            logger.warning("lifecycle hook claim was taken over", extra={"hook_id": record.hook_id})

    def _later(self, decision: GateDecision, body: str, now: datetime) -> GateAnswer:
        recheck_at = decision.recheck_at or now
        delay = max(1, min(MAX_DELAY_SECONDS, int((recheck_at - now).total_seconds())))
        if self.rechecks is None:
            return GateAnswer(
                "WAIT",
                f"{decision.reason}; no recheck queue configured: the hook's timeout action will decide",
                result="waiting",
            )
        self.rechecks.later(body, delay)
        return GateAnswer("WAIT", f"{decision.reason}; deciding again in {delay} s", result="waiting")


ANSWER_RETRY_SECONDS = 10


def _already(record: HookAnswerRecord) -> GateAnswer:
    if record.status is AnswerStatus.ANSWERED:
        when = record.answered_at.isoformat() if record.answered_at else "earlier"
        return GateAnswer(
            "skipped",
            f"already answered {record.verdict} at {when} ({record.outcome}): a duplicate event",
            result="already_answered",
        )
    return GateAnswer(
        "skipped",
        f"another invocation is answering {record.verdict} (claimed until {record.lease_until.isoformat()})",
        result="already_answered",
    )


def _fail_open(hook: PauseHook, why: str) -> GateDecision:
    """CONTINUE, as if the hook were not there: the watchdog in dry-run or notify mode never holds a deployment."""
    decision = decide_pause_hook(hook, target_held=False, now=hook.expires_at)
    return decision.model_copy(
        update={"reason": f"{why}; answered CONTINUE so the hook does not wait for its timeout action"}
    )


def _not_the_services_own(hook: PauseHook, cluster: str, service: str, view: ServiceView | None) -> str | None:
    """Why the hook's deployment is not the named service's own current deployment, or None when it is.

    An event names the service and the deployment separately, and whoever can send to the events queue (or
    a console test event) can pair an opted-in service with another's paused deployment: the deployment's
    ARN must name the same account, region, cluster and service (service-deployment/<cluster>/<service>/<id>),
    and DescribeServices must name it as the service's current (or in-progress) deployment."""
    deployment = ServiceDeploymentRef.parse(hook.service_deployment_arn)
    owner = ServiceRef.from_arn(hook.service_arn)
    if deployment is None or owner is None:
        return f"{hook.service_deployment_arn!r} is not a service deployment ARN of {hook.service_arn!r}"
    if (deployment.account, deployment.region, deployment.cluster, deployment.service) != (
        owner.account,
        owner.region,
        cluster,
        service,
    ):
        return f"deployment {hook.service_deployment_arn} belongs to another service than {hook.service_arn}"
    if view is not None and hook.service_deployment_arn not in (
        view.current_service_deployment_arn,
        view.in_progress_service_deployment_arn,
    ):
        return f"DescribeServices does not name {hook.service_deployment_arn} as the service's current deployment"
    return None


def _refused_to_answer(hook: PauseHook, why: str) -> GateAnswer:
    logger.error(
        "lifecycle hook not answered: it names another deployment", extra={"hook_id": hook.hook_id, "why": why}
    )
    return GateAnswer("skipped", f"not answered: {why}", result="skipped")
