"""Carry out a decided action through an injected call maker, and say what happened.

No boto3 here: `CallMaker` is the adapter's narrow interface (aws/ecs_actions.py implements it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from ecs_watchdog.contain.decision import confirm_unchanged
from ecs_watchdog.contain.models import (
    Action,
    ActionRecord,
    ApiCall,
    CallOutcomeUnknown,
    CallRefused,
    Mode,
    Outcome,
    ServiceView,
)


class CallMaker(Protocol):
    dry_run: bool  # an adapter that makes no call: what it "makes" is reported, never announced as done

    def make(self, call: ApiCall) -> None:
        """Make one call; raise CallRefused when ECS refuses it for a reason a fallback can handle."""
        ...


def carry_out(action: Action, reread: ServiceView, calls: CallMaker, at: datetime) -> ActionRecord:
    """Make the action's calls in order, unless the re-read service shows a person got there first.

    A refused first call runs the fallback calls instead (StopServiceDeployment → UpdateService).
    Any other error stops at that call; the record says which calls were made, and the error
    propagates only through the record, so the audit always gets written. A call whose answer was lost
    makes the outcome UNKNOWN, never DONE or FAILED: nobody can say yet whether it was applied.
    """
    action = confirm_unchanged(action, reread)
    if not action.kind.changes_service or not action.calls:
        return ActionRecord(action=action, outcome=Outcome.NOT_ACTED, at=at)
    if calls.dry_run and action.mode is Mode.ENFORCE:
        # The account went back to dry-run (or the adapter was built so): no call is made, none is claimed.
        action = action.model_copy(update={"mode": Mode.DRY_RUN})
    if action.mode is not Mode.ENFORCE:
        return ActionRecord(action=action, outcome=Outcome.DRY_RUN, at=at)
    made: list[ApiCall] = []
    try:
        try:
            for call in action.calls:
                calls.make(call)
                made.append(call)
            return ActionRecord(action=action, outcome=Outcome.DONE, at=at, calls_made=tuple(made))
        except CallRefused as refused:
            if made or not action.fallback_calls:
                return ActionRecord(
                    action=action, outcome=Outcome.REFUSED, at=at, calls_made=tuple(made), error=str(refused)
                )
            for call in action.fallback_calls:
                calls.make(call)
                made.append(call)
            return ActionRecord(
                action=action, outcome=Outcome.FALLBACK_DONE, at=at, calls_made=tuple(made), error=str(refused)
            )
    except CallOutcomeUnknown as lost:
        return ActionRecord(action=action, outcome=Outcome.UNKNOWN, at=at, calls_made=tuple(made), error=str(lost))
    except Exception as error:  # the record must say how far it got, whatever stopped it
        return ActionRecord(action=action, outcome=Outcome.FAILED, at=at, calls_made=tuple(made), error=repr(error))
