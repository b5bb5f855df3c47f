"""What an incident remembers of containment. Pure: the state changes around an action.

- before an enforced action, a **claim** (a conditional write) makes sure one invocation acts, once per
  deployment of the incident: an incident whose action took effect is acted on again only when a new
  deployment brings its revision back (the incident reopened for it);
- after it, the **record** (the ActionRecord as JSON) is kept on the incident, with a timeline entry, and
  an action that took effect makes the incident contained (a CONTAINED transition people are told of);
- a claim older than CLAIM_LEASE lost its invocation before the record was written: the next look at
  the service settles it (contain/step.py) — the action's effect is there, or it was not made;
- a decision a guard held back (cooldown, hourly cap, the correlated-failure guard, the kill switch), and
  one that failed, was refused or lost its answer, is looked at again after RECHECK, when the service's
  next event (or the sweep's tick) arrives.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ecs_watchdog.contain.models import RETRIED, TOOK_EFFECT, Outcome
from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.lifecycle import add_to_timeline, fork, record_transition
from ecs_watchdog.incidents.model import (
    Incident,
    IncidentKind,
    IncidentStatus,
    RevisionHealth,
    ServiceState,
    TransitionKind,
)

RECHECK = timedelta(minutes=5)
# Longer than the events function's 60 s timeout: a claim this old lost the invocation that made it.
CLAIM_LEASE = timedelta(minutes=3)
CLAIMED = "claimed"


def needs_containment(incident: Incident, now: datetime, wall: datetime | None = None) -> bool:
    """Whether containment should (again) decide for this incident. `now` is the event's time (the recheck
    interval), `wall` the clock's (a claim's lease: events can be minutes old when they are processed)."""
    if incident.status is not IncidentStatus.OPEN or incident.kind is IncidentKind.CORRELATED:
        return False
    if (incident.acted or {}).get("undone_at"):
        return False  # a person undid the watchdog's action: acting again would fight them
    record = incident.containment
    if record is None:
        return True
    outcome = record.get("outcome")
    if outcome == CLAIMED:
        return orphaned(record, wall or now)
    if outcome in TOOK_EFFECT or outcome == Outcome.PROPOSED:
        # One action (or one proposal: a person decides on it) per deployment: the incident reopened for a
        # new deployment of its revision.
        acted_on = (record.get("action") or {}).get("deployment_id")
        return incident.deployment_id is not None and acted_on != incident.deployment_id
    held = outcome == Outcome.NOT_ACTED and bool((record.get("action") or {}).get("would_have"))
    checked = incident.containment_checked_at
    return (held or outcome in RETRIED) and (checked is None or now - checked >= RECHECK)


def proposal_open(incident: Incident, proposal_id: str) -> bool:
    """Whether the incident's containment is the proposal `proposal_id`, not yet taken by any click."""
    record = incident.containment or {}
    proposal = incident.proposal or {}
    return (
        incident.status is IncidentStatus.OPEN
        and record.get("outcome") == Outcome.PROPOSED
        and proposal.get("id") == proposal_id
        and not proposal.get("taken_by")
    )


def orphaned(record: dict[str, Any], wall: datetime) -> bool:
    """A claim whose invocation stopped before it recorded what it did: older than its lease by the clock."""
    try:
        return wall - datetime.fromisoformat(str(record.get("claimed_at") or record.get("at"))) >= CLAIM_LEASE
    except ValueError:
        return True


def orphaned_claim(incident: Incident, wall: datetime) -> bool:
    record = incident.containment or {}
    return record.get("outcome") == CLAIMED and orphaned(record, wall)


def action_at_before(incident: Incident) -> datetime | None:
    """The service's last action before this incident's claim (what the claim's cooldown replaced)."""
    return _previous_action_at(incident.containment or {})


def claimed_action(incident: Incident) -> dict[str, Any] | None:
    """The action that may have been made without its outcome being known: an orphaned claim that had
    started its calls (`calling_at`), or a record whose answer was lost. JSON as stored."""
    record = incident.containment or {}
    started = record.get("outcome") == CLAIMED and record.get("calling_at")
    if started or record.get("outcome") == Outcome.UNKNOWN:
        action = record.get("action")
        return action if isinstance(action, dict) else None
    return None


def claim(
    state: ServiceState,
    incident_id: str,
    owner: str,
    at: datetime,
    action: dict[str, Any],
    wall: datetime | None = None,
    approval: tuple[str, str] | None = None,
) -> Result:
    """Mark the incident as being acted on by `owner` (written before any call is made), with the action
    it is about to make, so that an invocation that dies after the calls leaves enough to settle it.
    With `approval` (proposal id, who approved): only the incident's open proposal of that id may be
    claimed, once — the first click takes it, with the clicker; every later one finds it taken."""
    incident = state.incidents.get(incident_id)
    due = incident is not None and (
        proposal_open(incident, approval[0]) if approval else needs_containment(incident, at, wall)
    )
    if incident is None or not due:
        return Result(state, note=f"{incident_id}: containment already decided or under way")
    result = Result(fork(state), changed=True)
    claimed = result.state.incidents[incident_id]
    if approval and claimed.proposal:
        claimed.proposal = {**claimed.proposal, "taken_by": approval[1], "taken_at": at.isoformat()}
    stale = claimed.containment or {}
    # An orphaned claim's cooldown never started: what it replaced is the service's last action.
    previous = _previous_action_at(stale) if stale.get("outcome") == CLAIMED else result.state.last_action_at
    claimed.containment = {
        "outcome": CLAIMED,
        "owner": owner,
        "at": at.isoformat(),
        "claimed_at": (wall or at).isoformat(),
        "action": action,
        "previous_last_action_at": previous.isoformat() if previous else None,
    }
    claimed.containment_checked_at = at
    result.state.last_action_at = at
    return result


def calling(state: ServiceState, incident_id: str, owner: str, wall: datetime) -> Result:
    """Right before the first call: the claim is still `owner`'s (a conditional write), and says from now
    on that calls may have been made. An orphaned claim without this mark made none."""
    if not holds(state, incident_id, owner):
        return Result(state, note=f"{incident_id}: the claim is no longer {owner}'s")
    result = Result(fork(state), changed=True)
    marked = result.state.incidents[incident_id]
    marked.containment = {**(marked.containment or {}), "calling_at": wall.isoformat()}
    return result


def holds(state: ServiceState, incident_id: str, owner: str, *, calling: bool = False) -> bool:
    """Whether `owner` holds the incident's claim (and, with `calling`, has marked its calls started)."""
    incident = state.incidents.get(incident_id)
    stored = (incident.containment or {}) if incident else {}
    return stored.get("outcome") == CLAIMED and stored.get("owner") == owner and (not calling or "calling_at" in stored)


def release(state: ServiceState, incident_id: str, owner: str, at: datetime, why: str) -> Result:
    """Give a claim back when no call was made (the write before the calls failed): the incident is
    decided again at its next event, and the cooldown the claim started does not hold it back."""
    if not holds(state, incident_id, owner):
        return Result(state, note=f"{incident_id}: no claim of {owner} to release")
    stored = state.incidents[incident_id].containment or {}
    result = Result(fork(state), changed=True)
    released = result.state.incidents[incident_id]
    released.containment = None
    released.containment_checked_at = None
    result.state.last_action_at = _previous_action_at(stored)
    add_to_timeline(released, at, "action", f"containment not attempted, decided again next time: {why}")
    return result


def _previous_action_at(claimed: dict[str, Any]) -> datetime | None:
    value = claimed.get("previous_last_action_at")
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def record(
    state: ServiceState,
    incident_id: str,
    outcome: dict[str, Any],
    summary: dict[str, Any],
    line: str,
    took_effect: bool,
    at: datetime,
    owner: str | None = None,
) -> Result:
    """Keep the decision on the incident (unless another invocation's claim now holds it: `owner` is the
    claim this record ends); an action that took effect contains it and is announced. The
    incident's undelivered opening messages carry `summary`, so they say what was done (or would be)."""
    incident = state.incidents.get(incident_id)
    if incident is None:
        return Result(state, note=f"{incident_id}: no such incident any more")
    current = incident.containment or {}
    if owner is not None and current.get("outcome") == CLAIMED and current.get("owner") != owner:
        return Result(state, note=f"{incident_id}: claimed by another invocation since; its record stands")
    result = Result(fork(state), changed=True)
    incident = result.state.incidents[incident_id]
    claimed = incident.containment or {}
    incident.containment = outcome
    incident.containment_checked_at = at
    add_to_timeline(incident, at, "action", line)
    new = result.state
    if took_effect:
        incident.acted = outcome  # what undo reads, whatever a later decision for the incident records
        target = (outcome.get("action") or {}).get("after", {}).get("task_definition")
        kind = (outcome.get("action") or {}).get("kind", "")
        new.last_action_at = at
        new.last_rollback_to = target if str(kind).startswith("rollback") else None
        if incident.task_definition:
            new.revisions.setdefault(incident.task_definition, RevisionHealth()).contained_at = at
    elif claimed.get("outcome") == CLAIMED and outcome.get("outcome") != Outcome.UNKNOWN:
        # Nothing known to have changed the service: the claim's cooldown does not stand. (An unknown
        # outcome may have: its cooldown stands until the service says which.)
        new.last_action_at = _previous_action_at(claimed)
    new.outbox = [
        t.model_copy(update={"action": summary})
        if t.incident.id == incident_id and t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED)
        else t
        for t in new.outbox
    ]
    if took_effect and incident.status is IncidentStatus.OPEN:  # once: never a second CONTAINED
        incident.status, incident.updated_at = IncidentStatus.CONTAINED, at
        transition = record_transition(new, incident, TransitionKind.CONTAINED, at, line)
        contained = transition.model_copy(update={"action": summary})
        new.outbox = [contained if t.id == transition.id else t for t in new.outbox]
        result.transitions.append(contained)
    return result


def undone(state: ServiceState, incident_id: str, revision: str | None, at: datetime) -> Result:
    """A person undid the incident's action (restore): the watchdog never acts on the incident again, and
    the revision they put back is theirs — not held back by the gate, not refused as a target — until it
    fails again."""
    incident = state.incidents.get(incident_id)
    if incident is None or not (incident.acted or incident.containment):
        return Result(state, note=f"{incident_id}: no action of the watchdog to mark undone")
    result = Result(fork(state), changed=True)
    new = result.state
    marked = new.incidents[incident_id]
    marked.acted = {**(marked.acted or marked.containment or {}), "undone_at": at.isoformat()}
    add_to_timeline(marked, at, "action", "a person undid the watchdog's action (restore): it does not act again")
    if revision:
        new.revisions.setdefault(revision, RevisionHealth()).cleared_at = at
    return result
