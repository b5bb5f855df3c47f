"""The pipeline's containment step: for an open incident, decide (pure, contain/decision.py) on a fresh
DescribeServices and act, once, under the account's policy.

Runs after the account's decision (so the correlated-failure guard is known) and before delivery (so
the incident's first message already says what was done, or in dry-run the exact call that would be).
Exactly one action per incident: an enforced action is claimed on the incident with a conditional write
before any call is made, and the service is described again right before acting (a person who got
there first makes it stand down). No boto3 here: the ECS, kill-switch and audit adapters are injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.approvals.expiry import expired
from ecs_watchdog.approvals.proposal import Proposal, draw
from ecs_watchdog.contain import claims
from ecs_watchdog.contain.decision import decide_containment, effect_visible, effective_mode
from ecs_watchdog.contain.execute import carry_out
from ecs_watchdog.contain.guards import GuardFacts
from ecs_watchdog.contain.models import (
    ACTION_TAG,
    NOT_APPLIED,
    TOOK_EFFECT,
    Action,
    ActionKind,
    ActionRecord,
    ApiCall,
    ContainmentPolicy,
    Mode,
    Outcome,
    ServiceTagAction,
    ServiceView,
)
from ecs_watchdog.contain.transient import TaskSample, nothing_survived, transient_start_up_failures
from ecs_watchdog.contain.undo import plan_undo
from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.correlation import AccountState, containment_paused
from ecs_watchdog.incidents.model import Incident, IncidentKind, ServiceState, Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)

HOUR = timedelta(hours=1)


class ServiceActions(Protocol):
    dry_run: bool

    def describe_service_view(self, cluster: str, service: str) -> ServiceView | None: ...
    def inactive_task_definitions(self, arns: list[str]) -> frozenset[str]: ...
    def make(self, call: ApiCall) -> None: ...


class TaskSampler(Protocol):
    def service_tasks(self, cluster: str, service: str) -> list[TaskSample]: ...
    def desired_count(self, cluster: str, service: str) -> int | None: ...


class KillSwitchReader(Protocol):
    def engaged(self) -> bool: ...


class AuditTrail(Protocol):
    def emit(self, record: ActionRecord) -> str: ...


UpdateService = Callable[[Callable[[ServiceState], Result]], tuple[ServiceState, list[Transition]]]
UpdateAccount = Callable[[Callable[[AccountState], AccountState | None]], AccountState | None]


@dataclass
class Decided:
    """What the step did for one incident, for the pipeline to announce and count."""

    incident_id: str
    record: ActionRecord
    transitions: list[Transition] = field(default_factory=list)  # CONTAINED, when the action took effect


@dataclass
class Approved:
    """What an approval from Slack came to: the record of the action made, or why none was."""

    record: ActionRecord | None = None  # the action carried out (its outcome says whether it took effect)
    refused: str | None = None  # the same guards as an automatic action held it back
    expired: str | None = None  # the proposal no longer holds
    taken: bool = False  # another click took the proposal first: nothing done by this one
    transitions: list[Transition] = field(default_factory=list)


@dataclass
class Containment:
    """Decides and acts for open incidents. `actions` is the ECS adapter (aws/ecs_actions.py)."""

    actions: ServiceActions
    policy: ContainmentPolicy = field(default_factory=ContainmentPolicy)
    kill_switch: KillSwitchReader | None = None
    audit: AuditTrail | None = None
    # The service's tasks, for judging whether failures are transient (None: every failure counts).
    tasks: TaskSampler | None = None
    # The wall clock: a claim's lease is measured by it (events can be minutes old when processed).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def run(
        self,
        ref: ServiceRef,
        state: ServiceState,
        account: AccountState | None,
        owner: str,
        now: datetime,
        update_service: UpdateService,
        update_account: UpdateAccount,
    ) -> list[Decided]:
        """Decide, and act where allowed, for each open incident of the service that awaits a decision."""
        if self.policy.mode is Mode.NOTIFY:
            return []  # notify mode says nothing about containment and costs no look-up
        wall = self.clock()
        due = [i for i in state.incidents.values() if claims.needs_containment(i, now, wall)]
        decided: list[Decided] = []
        for incident in due:
            view = self.actions.describe_service_view(ref.cluster, ref.name)
            if view is None:
                logger.warning("cannot contain: ECS does not know the service", extra={"service_key": ref.key})
                return decided
            record = self._settled(incident, view, now)
            ends = (incident.containment or {}).get("owner") if record is not None else owner
            if record is None:
                if claims.orphaned_claim(incident, wall):
                    # Its action left no trace: the cooldown its claim started does not hold either.
                    state = state.model_copy(update={"last_action_at": claims.action_at_before(incident)})
                action = _carried_forward(self._decide(incident, state, view, account, now), incident)
                record = self._carry_out(ref, incident.id, action, owner, now, update_service, update_account)
                if record is None:
                    continue  # another invocation claimed it first
            # The audit event goes first: if the state write below fails past its retries, the account's
            # event bus still says what was done (and the next look at the service settles the claim).
            self._audit(record)
            proposal = None
            if record.outcome is Outcome.PROPOSED:
                # By the wall clock, as the click that approves it is: events can be minutes old.
                proposal = draw(record.action, view, self.clock(), self.policy.approval_window)
            try:
                recorder = _recorder(record, now, view.tags.get(ACTION_TAG), ends, proposal)
                saved, transitions = update_service(recorder)
            except Exception as error:
                logger.error(
                    "containment made its calls but could not record them: settled at the next look",
                    extra={"incident": incident.id, "action": action_line(record), "problem": str(error)},
                )
                raise
            state = saved
            decided.append(Decided(incident.id, record, transitions))
        return decided

    def approve(
        self,
        ref: ServiceRef,
        state: ServiceState,
        account: AccountState | None,
        proposal: Proposal,
        approved_by: str,  # who approved, as the record and the proposal name them
        owner: str,
        now: datetime,
        update_service: UpdateService,
        update_account: UpdateAccount,
    ) -> Approved:
        """Carry out a proposal a person approved, on the same path as an automatic action: a fresh
        DescribeServices, the proposal still valid on it, the same decision and guards (the kill switch, the
        cooldown, the hourly cap) as enforce, the claim (the first approval takes the proposal; any other
        finds it taken), a re-read before the calls, and the record of what ECS answered."""
        incident = state.incidents.get(proposal.incident_id)
        if incident is None:
            return Approved(expired="the incident is closed: there is nothing left to approve")
        view = self.actions.describe_service_view(ref.cluster, ref.name)
        if view is None:
            return Approved(expired=f"ECS does not know service {ref.label} any more")
        stale = expired(proposal, proposal.id, incident, view, now)
        if stale:
            return Approved(expired=stale)
        action = self._decide(incident, state, view, account, now, approving=True)
        if not action.acts:
            mode = f" (decided in {action.mode} mode: no call is made)" if action.kind.changes_service else ""
            return Approved(refused=f"{action.reason}{mode}")
        planned = proposal.action
        if action.kind is not planned.kind or action.after.task_definition != planned.after.task_definition:
            return Approved(expired=f"the watchdog would now decide otherwise ({action.kind}): {action.reason}")
        record = self._carry_out(
            ref, incident.id, action, owner, now, update_service, update_account, approval=(proposal.id, approved_by)
        )
        if record is None:
            return Approved(taken=True)
        record = record.model_copy(update={"note": record.note or f"approved in Slack by {approved_by}"})
        self._audit(record)
        _, transitions = update_service(_recorder(record, now, view.tags.get(ACTION_TAG), owner))
        return Approved(record=record, transitions=transitions)

    def _decide(
        self,
        incident: Incident,
        state: ServiceState,
        view: ServiceView,
        account: AccountState | None,
        now: datetime,
        *,
        approving: bool = False,
    ) -> Action:
        tag, problem = ServiceTagAction.from_tags(view.tags)
        if problem:
            logger.warning("ignoring an invalid service tag", extra={"service_key": state.service, "problem": problem})
        policy = self.policy
        if approving and policy.mode.rank >= Mode.APPROVE.rank:
            # A person approved: decided as enforce. A lower ceiling (the account's mode now, a notify tag, the
            # kill switch) still holds.
            policy = policy.model_copy(update={"mode": Mode.ENFORCE})
            tag = ServiceTagAction.AUTO if tag is ServiceTagAction.APPROVE else tag
        facts = GuardFacts(
            now=now,
            account_action_times=tuple(account.action_times) if account else (),
            service_last_action_at=state.last_action_at,
            service_last_rollback_to=state.last_rollback_to,
            incident_acted=False,  # a decided incident is never due (claims.needs_containment)
            correlated_pause=containment_paused(account, incident.category),
            kill_switch=self._kill_switch_engaged(),
            failing_revisions=state.failing_revisions(),
            transient_failures=self._transient(incident, view, now),
        )
        candidates = {state.last_known_good, *(d.task_definition for d in view.deployments)} - {
            incident.task_definition or view.task_definition,
            None,
        }
        return decide_containment(
            incident,
            view,
            last_known_good=state.last_known_good,
            policy=policy,
            service_tag_action=tag,
            guards=facts,
            inactive=self._inactive(sorted(c for c in candidates if c)),
        )

    def _transient(self, incident: Incident, view: ServiceView, now: datetime) -> str | None:
        """Whether the failing revision's failures are transient start-up failures (contain/transient.py).
        Asked only where it can be true: failures counted by a loop rule (not a probe's proof), and tasks
        of the failing revision running now."""
        failing = incident.task_definition
        if (
            self.tasks is None
            or failing is None
            or incident.kind not in (IncidentKind.FAILING_DEPLOYMENT, IncidentKind.CRASH_LOOP)
            or view.running_of(failing) == 0
        ):
            return None
        try:
            samples = self.tasks.service_tasks(view.cluster, view.service)
        except Exception as error:  # not knowing is not transient: the failures count as they always did
            logger.warning("cannot read the service's tasks", extra={"incident": incident.id, "problem": str(error)})
            return None
        return transient_start_up_failures(failing, samples, view, now)

    def nothing_survived(
        self,
        ref: ServiceRef,
        failing: str,
        task_arn: str,
        now: datetime,
        *,
        deployment: str | None,
        replaced_healthy: bool,
        action_tag: str | None = None,
    ) -> str | None:
        """Why a new revision's failure (task `task_arn`, of `deployment`) is a failing deployment already,
        before the threshold (contain/transient.py); None when its tasks say wait, when the service or its
        tasks cannot be read, or where containment never acts (notify mode; `action_tag`, the service's
        `ecs-watchdog:action`, notify, ignore or not one of ours). Reads DescribeServices (the desired
        count) and the tasks."""
        tag, _ = ServiceTagAction.from_tags({ACTION_TAG: action_tag} if action_tag is not None else {})
        if self.tasks is None or effective_mode(self.policy.mode, tag, kill_switch=False) is Mode.NOTIFY:
            return None
        try:
            desired = self.tasks.desired_count(ref.cluster, ref.name)
            if desired is None:
                return None
            samples = self.tasks.service_tasks(ref.cluster, ref.name)
            # Judged as of the read: an event handled late has given the siblings more time, not less.
            read_at = max(now, self.clock())
            return nothing_survived(
                failing,
                task_arn,
                samples,
                read_at,
                desired=desired,
                deployment=deployment,
                replaced_healthy=replaced_healthy,
            )
        except Exception as error:  # not knowing is no evidence: the threshold counts, as it always did
            logger.warning("cannot read the service's tasks", extra={"service_key": ref.key, "problem": str(error)})
            return None

    def _settled(self, incident: Incident, view: ServiceView, now: datetime) -> ActionRecord | None:
        """An orphaned claim, or an action whose answer was lost: the service as described now shows its
        effect (recorded as done, confirmed) or not (None: decided afresh, like a first time)."""
        stored = claims.claimed_action(incident)
        if stored is None:
            return None  # nothing was called (an orphaned claim that never marked its calls): decide afresh
        try:
            action = Action.model_validate(stored)
        except ValueError:
            return None
        if not effect_visible(action, view):
            logger.warning(
                "an earlier containment attempt left no trace on the service: deciding again",
                extra={"incident": incident.id, "claimed": (incident.containment or {}).get("at")},
            )
            return None
        return ActionRecord(
            action=action,
            outcome=Outcome.DONE,
            at=now,
            calls_made=action.calls,
            note=(
                "read from DescribeServices: the service now shows this action's effect; the answer to the "
                "watchdog's call, or its record, was lost, so whether its call or someone else's made the change "
                "the record cannot say"
            ),
        )

    def _inactive(self, task_definitions: list[str]) -> frozenset[str]:
        if not task_definitions:
            return frozenset()
        try:
            return self.actions.inactive_task_definitions(task_definitions)
        except Exception as error:  # unknown is not inactive: the call, if made, reports its own refusal
            logger.warning("cannot tell whether task definitions are registered", extra={"problem": str(error)})
            return frozenset()

    def restore(
        self,
        ref: ServiceRef,
        state: ServiceState | None,
        now: datetime,
        *,
        reapply_revision: bool = False,
        dry_run: bool = False,
    ) -> ActionRecord:
        """Undo the watchdog's last action on the service: restore the desired count it scaled to zero
        (from its record, or the service's tag when the record is gone), or — only when asked — re-apply
        the revision a rollback replaced. The service is described fresh; someone's later change stands."""
        view = self.actions.describe_service_view(ref.cluster, ref.name)
        if view is None:
            raise LookupError(f"ECS does not know service {ref.label}")
        record = last_action(state)
        action = plan_undo(view, record, service=ref.key, mode=Mode.DRY_RUN if dry_run else Mode.ENFORCE)
        if action.kind is ActionKind.REAPPLY_REVISION and not reapply_revision:
            action = action.model_copy(
                update={
                    "kind": ActionKind.STAND_DOWN,
                    "would_have": ActionKind.REAPPLY_REVISION,
                    "calls": (),
                    "reason": f'{action.reason}: only on request (--reapply-revision, or "reapply_revision": true)',
                }
            )
        result = carry_out(action, view, self.actions, now)
        self._audit(result)
        return result

    def _carry_out(
        self,
        ref: ServiceRef,
        incident_id: str,
        action: Action,
        owner: str,
        now: datetime,
        update_service: UpdateService,
        update_account: UpdateAccount,
        approval: tuple[str, str] | None = None,
    ) -> ActionRecord | None:
        if action.mode is Mode.APPROVE and action.kind.changes_service and action.calls:
            return ActionRecord(action=action, outcome=Outcome.PROPOSED, at=now)  # a person decides
        if action.acts and self.actions.dry_run:
            # An adapter that makes no call must never report one made.
            action = action.model_copy(update={"mode": Mode.DRY_RUN})
        if not action.acts:
            outcome = (
                Outcome.DRY_RUN if action.mode is Mode.DRY_RUN and action.kind.changes_service else Outcome.NOT_ACTED
            )
            return ActionRecord(action=action, outcome=outcome, at=now)
        planned = action.model_dump(mode="json")
        wall = self.clock()
        saved, _ = update_service(
            lambda current: claims.claim(current, incident_id, owner, now, planned, wall, approval=approval)
        )
        if not claims.holds(saved, incident_id, owner):
            logger.info("containment already claimed by another invocation", extra={"incident": incident_id})
            return None

        def count_action(account: AccountState) -> AccountState:
            recent = [t for t in account.action_times if timedelta(0) <= now - t < HOUR]
            return account.model_copy(update={"action_times": [*recent, now]})

        try:
            update_account(count_action)
        except Exception as error:
            # No call was made: give the claim back so the next event decides again, and say so.
            why = f"the account's action count could not be written: {type(error).__name__}: {error}"
            update_service(lambda current: claims.release(current, incident_id, owner, now, why))
            raise
        reread = self.actions.describe_service_view(ref.cluster, ref.name)
        if reread is None:
            return ActionRecord(action=action, outcome=Outcome.FAILED, at=now, error="the service disappeared")
        # The last conditional write before the calls: the claim is still ours, and says calls may follow.
        saved, _ = update_service(lambda current: claims.calling(current, incident_id, owner, self.clock()))
        if not claims.holds(saved, incident_id, owner, calling=True):
            logger.warning("containment claim taken over before its calls: none made", extra={"incident": incident_id})
            return None
        record = carry_out(action, reread, self.actions, now)
        if record.outcome in NOT_APPLIED:
            self._take_back(update_account, now)
        log = logger.info if record.took_effect else logger.warning
        log("containment carried out", extra={"incident": incident_id, "outcome": str(record.outcome)})
        return record

    @staticmethod
    def _take_back(update_account: UpdateAccount, now: datetime) -> None:
        """An action ECS did not apply does not count against the account's hourly cap."""

        def uncount(account: AccountState) -> AccountState | None:
            if now not in account.action_times:
                return None
            times = list(account.action_times)
            times.remove(now)
            return account.model_copy(update={"action_times": times})

        try:
            update_account(uncount)
        except Exception as error:  # the cap errs on the side of acting less
            logger.warning("could not take a failed action off the hourly count", extra={"problem": str(error)})

    def _kill_switch_engaged(self) -> bool:
        if self.kill_switch is None:
            return False
        try:
            return self.kill_switch.engaged()
        except Exception as error:  # an unreadable switch is an engaged one: never act on doubt
            logger.error("kill switch unreadable: treated as engaged", extra={"problem": str(error)})
            return True

    def _audit(self, record: ActionRecord) -> None:
        if self.audit is None or (record.action.kind is ActionKind.STAND_DOWN and not record.action.notify_people):
            return
        try:
            self.audit.emit(record)
        except Exception as error:  # the audit event must not undo or repeat the action
            logger.error("could not emit the audit event", extra={"problem": str(error)})


def last_action(state: ServiceState | None) -> ActionRecord | None:
    """The latest containment record of the service's incidents that changed the service."""
    records = []
    for incident in state.incidents.values() if state else ():
        for stored in (incident.acted, incident.containment):  # `acted` outlives later decisions
            if stored and stored.get("outcome") in TOOK_EFFECT:
                records.append(ActionRecord.model_validate(stored))
                break
    return max(records, key=lambda r: r.at, default=None)


def _carried_forward(action: Action, incident: Incident) -> Action:
    """A retry of an action that may have made some calls (failed, unknown, or a claim that started its
    calls) keeps what undo needs from the first attempt: the service as it was before the watchdog touched
    it, not as the first attempt left it (its scaling already suspended, say)."""
    stored = incident.containment or {}
    if stored.get("outcome") not in (Outcome.FAILED, Outcome.UNKNOWN, claims.CLAIMED) or not isinstance(
        stored.get("action"), dict
    ):
        return action
    try:
        first = Action.model_validate(stored["action"])
    except ValueError:
        return action
    if first.kind is not action.kind:
        return action
    return action.model_copy(
        update={
            "previous_desired_count": first.previous_desired_count,
            "previous_task_definition": first.previous_task_definition,
            "previous_scaling": first.previous_scaling,
        }
    )


def _recorder(
    record: ActionRecord, now: datetime, action_tag: str | None, owner: str | None, proposal: Proposal | None = None
) -> Callable[[ServiceState], Result]:
    """Keep the decision on the incident (if the claim it ends is still `owner`'s), and the service's
    action tag as the fresh look-up read it; in approve mode, the proposal people can approve."""

    def change(current: ServiceState) -> Result:
        result = claims.record(
            current,
            record.action.incident_id,
            action_json(record),
            action_summary(record),
            action_line(record),
            record.took_effect,
            now,
            owner,
        )
        if result.changed:
            result.state.action_tag = action_tag
            if proposal is not None:
                _keep_proposal(result.state, proposal)
        return result

    return change


def _keep_proposal(state: ServiceState, proposal: Proposal) -> None:
    """The proposal on the incident, and on its undelivered opening: the message carries its button."""
    stored = proposal.model_dump(mode="json")
    incident = state.incidents[proposal.incident_id]
    incident.proposal = stored
    state.outbox = [
        t.model_copy(update={"incident": t.incident.model_copy(update={"proposal": stored})})
        if t.incident.id == proposal.incident_id and t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED)
        else t
        for t in state.outbox
    ]


def action_json(record: ActionRecord) -> dict[str, Any]:
    """The record as stored on the incident (and read by undo)."""
    return record.model_dump(mode="json")


def action_summary(record: ActionRecord) -> dict[str, Any]:
    """What messages show: the action, whether it was only reported, the exact calls, the outcome."""
    action = record.action
    calls = [c.model_dump(mode="json") for c in (record.calls_made if record.took_effect else action.calls)]
    return {
        "kind": str(action.kind),
        "mode": str(action.mode),
        "dry_run": record.outcome is Outcome.DRY_RUN,
        "calls": calls,
        "call": calls[0] if calls else None,
        "reason": action.reason,
        "outcome": str(record.outcome),
        "would_have": str(action.would_have) if action.would_have else None,
        "before": action.before.model_dump(mode="json"),
        "after": action.after.model_dump(mode="json"),
        "error": record.error,
        "note": record.note,
        "calls_made": [c.model_dump(mode="json") for c in record.calls_made],
        "notify_people": action.notify_people,
    }


def action_line(record: ActionRecord) -> str:
    """One line for the incident's timeline and the CONTAINED message."""
    action = record.action
    calls = ", ".join(c.operation for c in (record.calls_made or action.calls)) or "no call"
    if record.outcome is Outcome.DRY_RUN:
        return f"dry-run: would {action.kind} ({calls}): {action.reason}"
    if record.outcome is Outcome.PROPOSED:
        return f"proposed, waiting for a person's approval: {action.kind} ({calls}): {action.reason}"
    if record.took_effect:
        return f"{action.kind} ({calls}): {action.reason}"
    if action.would_have:
        return f"held back from {action.would_have}: {action.reason}"
    if record.outcome in (Outcome.REFUSED, Outcome.FAILED, Outcome.UNKNOWN):
        return f"{action.kind} {record.outcome}: {record.error or action.reason}"
    return f"{action.kind}: {action.reason}"
