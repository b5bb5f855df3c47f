"""The click desk: a verified Slack click in, what it came to out (and said privately to the clicker).

Every click is checked against the people allowed to press, whatever its button, and every click — allowed
or not — is an `ECS Watchdog Action` audit event naming the Slack user, the button and the result.
- Approve carries the incident's proposal out on the same path as an automatic action (contain/step.py:
  a fresh DescribeServices, the proposal still valid on it, the same guards and kill switch, the claim,
  the calls, the record): a double click, two people at once or Slack's retry make one action, because
  the first click's conditional write takes the proposal and every other finds it taken.
- Undo is `ecs-watchdog restore` for the incident's action (re-applying a rolled-back revision too: the
  person asked for it by pressing Undo); the watchdog then never acts on the incident again.
- Acknowledge and Silence are recorded on the incident (approvals/marks.py) and the living message edited.
Never raises: the watchdog's own trouble is FAILED, with a reply that says nothing was confirmed.
No boto3 here: the pipeline's adapters, the group lookup and the audit trail are injected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.approvals import marks
from ecs_watchdog.approvals.click import ButtonKind, Click, ClickOutcome, ClickResult
from ecs_watchdog.approvals.expiry import expired
from ecs_watchdog.approvals.people import refusal
from ecs_watchdog.approvals.proposal import stored
from ecs_watchdog.conflicts import update_with_retry
from ecs_watchdog.contain.models import TOOK_EFFECT, ActionRecord, Outcome
from ecs_watchdog.contain.step import Approved, action_line, last_action
from ecs_watchdog.flow.pipeline import Pipeline, utc_now
from ecs_watchdog.flow.state_items import account_updater, service_item, service_updater
from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.model import Incident, ServiceState, Transition
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)

SILENCES = {ButtonKind.SILENCE_1H: timedelta(hours=1), ButtonKind.SILENCE_24H: timedelta(hours=24)}


class UserGroupMembers(Protocol):
    """A Slack user group's members (aws/slack_usergroups.py: usergroups.users.list)."""

    def members(self, group_id: str) -> frozenset[str]: ...


class ClickAudit(Protocol):
    def emit_click(self, detail: dict[str, Any], at: datetime) -> str: ...


@dataclass
class ClickDesk:
    """Answers clicks on the watchdog's Slack buttons through `pipeline` (its state, outbox and containment,
    whose ECS adapter acts: wiring/approvals.py builds it so in approve and enforce)."""

    pipeline: Pipeline
    allowed_users: frozenset[str] = frozenset()
    allowed_group: str | None = None
    groups: UserGroupMembers | None = None
    audit: ClickAudit | None = None
    clock: Callable[[], datetime] = utc_now

    def handle(self, click: Click) -> ClickOutcome:
        """What `click` came to, audited; never raises."""
        try:
            outcome = self._handle(click)
        except Exception as error:
            logger.exception("a click could not be carried out", extra={"button": str(click.kind)})
            outcome = ClickOutcome(
                result=ClickResult.FAILED,
                reply=(
                    f"The watchdog hit its own error ({type(error).__name__}) and cannot confirm anything was done: "
                    "check the incident's message and the audit trail before pressing again."
                ),
            )
        self._audit(click, outcome)
        return outcome

    # -- the buttons --------------------------------------------------------------------------------
    def _handle(self, click: Click) -> ClickOutcome:
        refused = refusal(click.user_id, self.allowed_users, self.allowed_group, self._group_members())
        if refused:
            return ClickOutcome(result=ClickResult.NOT_ALLOWED, reply=refused)
        ref = _ref(click.target.service)
        if ref is None:
            return ClickOutcome(result=ClickResult.EXPIRED, reply="This button names no service the watchdog knows.")
        state = self.pipeline.state.load_service(ref.key, fresh=True)
        incident = state.incidents.get(click.target.incident) if state else None
        if state is None or incident is None:
            return ClickOutcome(result=ClickResult.EXPIRED, reply="This incident is closed: the button does nothing.")
        if click.kind is ButtonKind.APPROVE:
            return self._approve(click, ref, state, incident)
        if click.kind is ButtonKind.UNDO:
            return self._undo(ref, state, incident)
        return self._mark(click, ref, incident)

    def _approve(self, click: Click, ref: ServiceRef, state: ServiceState, incident: Incident) -> ClickOutcome:
        proposal = stored(incident.proposal)
        if proposal is None or click.target.proposal is None:
            return _outcome(ClickResult.EXPIRED, "There is no proposal to approve on this incident.")
        if proposal.id == click.target.proposal and proposal.taken_by:
            return _taken(incident, proposal.taken_by)
        now = self.clock()
        stale = expired(proposal, click.target.proposal, incident, None, now)
        if stale:
            return _outcome(ClickResult.EXPIRED, f"Expired, nothing done: {stale}.")
        containment = self.pipeline.containment
        if containment is None:
            return _outcome(ClickResult.REFUSED, "Refused: containment is off (watchdog:mode is notify).")
        owner = f"slack:{click.user_id}:{click.action_ts}:{uuid.uuid4().hex[:8]}"
        who = f"{click.user_name or click.user_id} ({click.user_id})"
        approved = containment.approve(
            ref,
            state,
            self.pipeline.state.load_account(ref.account_key),
            proposal,
            who,
            owner,
            now,
            service_updater(self.pipeline.state, self.pipeline.outbox, ref, now, owner, self.pipeline.pause),
            account_updater(self.pipeline.state, ref, now, self.pipeline.pause),
        )
        self._deliver(ref, approved.transitions, owner, now)
        return self._approval_outcome(approved, ref, incident.id)

    def _approval_outcome(self, approved: Approved, ref: ServiceRef, incident_id: str) -> ClickOutcome:
        if approved.taken:
            fresh = self.pipeline.state.load_service(ref.key, fresh=True)
            incident = fresh.incidents.get(incident_id) if fresh else None
            taken = stored(incident.proposal) if incident else None
            if incident is None or taken is None:
                return _outcome(ClickResult.DUPLICATE, "Already taken: another click carried this proposal out.")
            return _taken(incident, taken.taken_by)
        if approved.expired:
            return _outcome(ClickResult.EXPIRED, f"Expired, nothing done: {approved.expired}.")
        if approved.refused:
            return _outcome(ClickResult.REFUSED, f"Refused, nothing done: {approved.refused}")
        if approved.record is None:
            return _outcome(ClickResult.FAILED, "Nothing was recorded for this approval: check the incident's message.")
        return _record_outcome(approved.record)

    def _undo(self, ref: ServiceRef, state: ServiceState, incident: Incident) -> ClickOutcome:
        acted = incident.acted or {}
        if acted.get("undone_at"):
            return _outcome(ClickResult.DUPLICATE, f"Already undone at {acted['undone_at'][:16]} UTC.")
        if acted.get("outcome") not in TOOK_EFFECT:
            return _outcome(ClickResult.EXPIRED, "Nothing to undo: the watchdog made no change for this incident.")
        latest = last_action(state)
        if latest is None or latest.action.incident_id != incident.id:
            return _outcome(
                ClickResult.EXPIRED,
                "Not undone: the watchdog's last action on this service was for another incident; use "
                "`ecs-watchdog restore` to undo that one.",
            )
        summary = self.pipeline.restore(ref.cluster, ref.name, reapply_revision=True)
        self._refresh(ref, incident.id)
        if summary.get("outcome") in TOOK_EFFECT:
            calls = ", ".join(c["operation"] for c in summary.get("calls_made", [])) or "no call"
            warning = f" Warning: {summary['warning']}" if summary.get("warning") else ""
            return _outcome(ClickResult.DONE, f"Undone ({calls}): {summary.get('reason')}.{warning}")
        return _outcome(
            ClickResult.REFUSED,
            f"Not undone ({summary.get('outcome')}): {summary.get('error') or summary.get('reason')}",
        )

    def _mark(self, click: Click, ref: ServiceRef, incident: Incident) -> ClickOutcome:
        now = self.clock()
        if click.kind is ButtonKind.ACKNOWLEDGE:

            def change(state: ServiceState) -> Result:
                return marks.acknowledge(state, incident.id, click.user_id, click.user_name, now)

            done = f"Acknowledged: the incident's message names you ({now:%H:%M} UTC), and count updates stop."
        else:
            span = SILENCES[click.kind]

            def change(state: ServiceState) -> Result:
                return marks.silence(state, incident.id, click.user_id, click.user_name, now, span)

            done = (
                f"Silenced until {now + span:%Y-%m-%d %H:%M} UTC: no message about this incident on any channel "
                "until then (what happens is still recorded)."
            )
        unchanged: list[str] = []  # why the last attempt changed nothing

        def apply(state: ServiceState) -> ServiceState | None:
            result = change(state)
            unchanged[:] = [] if result.changed else [result.note]
            return result.state if result.changed else None

        item = service_item(self.pipeline.state, ref, now)
        update_with_retry(item.load, apply, item.save, what=item.what, pause=self.pipeline.pause)
        if unchanged:
            return _outcome(ClickResult.DUPLICATE, f"Nothing changed: {unchanged[0]}.")
        self._refresh(ref, incident.id)
        return _outcome(ClickResult.DONE, done)

    # -- around every click -------------------------------------------------------------------------
    def _group_members(self) -> frozenset[str] | None:
        if not self.allowed_group or self.groups is None:
            return None
        try:
            return self.groups.members(self.allowed_group)
        except Exception as error:  # unknown membership admits nobody by it; the listed users still may press
            logger.warning("cannot read the allowed user group", extra={"problem": f"{error}"[:300]})
            return None

    def _deliver(self, ref: ServiceRef, transitions: list[Transition], owner: str, now: datetime) -> None:
        """The approval's CONTAINED transition to the channels now (silenced incidents stay quiet); what
        does not go out stays in the outbox for the next event or the sweep."""
        if not transitions:
            return
        outbox = self.pipeline.outbox
        taken: dict[str, set[str]] = {}
        done: set[str] = set()
        for transition in transitions:
            if marks.muted(transition, None, now):
                taken[transition.id], done = set(), done | {transition.id}
                continue
            sent = outbox.deliver(transition, ref)
            taken[transition.id] = sent.taken.get(transition.id, set())
            if outbox.complete(transition, taken[transition.id]):
                done.add(transition.id)
        outbox.acknowledge(service_item(self.pipeline.state, ref, now), taken, done, owner)

    def _refresh(self, ref: ServiceRef, incident_id: str) -> None:
        """Edit the incident's living message to show what the click changed (bot mode only)."""
        state = self.pipeline.state.load_service(ref.key, fresh=True)
        incident = state.incidents.get(incident_id) if state else None
        if incident is None:
            return
        for channel in self.pipeline.outbox.channels:
            refresh = getattr(getattr(channel, "inner", channel), "refresh", None)
            if not callable(refresh):
                continue
            try:
                refresh(incident, ref)
            except Exception as error:  # the click's effect is recorded; the message catches up on its next edit
                logger.warning("could not edit the living message", extra={"problem": f"{error}"[:300]})

    def _audit(self, click: Click, outcome: ClickOutcome) -> None:
        if self.audit is None:
            return
        detail = {
            "kind": "slack_click",
            "button": str(click.kind),
            "result": str(outcome.result),
            "reply": outcome.reply,
            "user": {"id": click.user_id, "name": click.user_name},
            "team_id": click.team_id,
            "channel_id": click.channel_id,
            "message_ts": click.message_ts,
            "action_ts": click.action_ts,
            "service": click.target.service,
            "incident": click.target.incident,
            "proposal": click.target.proposal,
            "clicked_at": click.clicked_at.isoformat(),
        }
        try:
            self.audit.emit_click(detail, click.clicked_at)
        except Exception as error:  # the audit event must not undo or repeat what the click did
            logger.error("could not emit the click's audit event", extra={"problem": f"{error}"[:300]})


def _ref(key: str) -> ServiceRef | None:
    parts = key.split("/", 3)
    if len(parts) != 4 or not all(parts):
        return None
    return ServiceRef(account=parts[0], region=parts[1], cluster=parts[2], name=parts[3])


def _outcome(result: ClickResult, reply: str) -> ClickOutcome:
    return ClickOutcome(result=result, reply=reply)


def _taken(incident: Incident, by: str | None) -> ClickOutcome:
    outcome = str((incident.containment or {}).get("outcome", ""))
    return _outcome(
        ClickResult.DUPLICATE,
        f"Already approved by {by or 'someone else'}: nothing done twice "
        f"(the action's outcome: {outcome or 'pending'}).",
    )


def _record_outcome(record: ActionRecord) -> ClickOutcome:
    line = action_line(record)
    if record.took_effect:
        return _outcome(ClickResult.DONE, f"Done: {line}")
    if record.outcome is Outcome.NOT_ACTED:
        return _outcome(ClickResult.EXPIRED, f"Nothing done: {record.action.reason}")
    if record.outcome is Outcome.UNKNOWN:
        return _outcome(ClickResult.FAILED, f"No answer from ECS: {record.error}. The watchdog checks the service.")
    return _outcome(
        ClickResult.REFUSED if record.outcome is Outcome.REFUSED else ClickResult.FAILED, f"Not done: {line}"
    )
