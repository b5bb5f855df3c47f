"""What `ecs-watchdog restore` says it did, or would do, in words (its JSON is `--json`)."""

from __future__ import annotations

import json

from ecs_watchdog.contain.models import ActionKind, ActionRecord, ApiCall, Counts, Outcome

_DOING = {
    ActionKind.RESTORE_DESIRED_COUNT: "put back the desired count the watchdog's scale to zero recorded",
    ActionKind.REAPPLY_REVISION: "re-apply the revision the watchdog's rollback moved away from",
}


def _call(call: ApiCall) -> str:
    return f"{call.service} {call.operation}({json.dumps(call.params, sort_keys=True, default=str)})"


def _counts(counts: Counts) -> str:
    revision = counts.task_definition.rsplit("/", 1)[-1] if counts.task_definition else "?"
    return f"{revision}, desired {counts.desired_count}"


def restore_text(record: ActionRecord, service: str, *, dry_run: bool) -> str:
    """Lines for a person: what happened to `service` (cluster/name), or what would, and the calls."""
    action = record.action
    doing = _DOING.get(action.kind, str(action.kind).replace("_", " "))
    change = f"{_counts(action.before)} -> {_counts(action.after)}"
    if record.took_effect:
        lines = [f"Restored {service}: {doing} ({change})."]
        lines += [f"  called: {_call(c)}" for c in record.calls_made]
    elif record.outcome is Outcome.DRY_RUN or (dry_run and action.calls):
        lines = [f"Dry run: would {doing} on {service} ({change}); no call was made."]
        lines += [f"  would call: {_call(c)}" for c in action.calls]
    elif record.outcome is Outcome.NOT_ACTED:
        lead = "Dry run: nothing would be done" if dry_run else "Nothing done"
        lines = [f"{lead} on {service}: {action.reason}."]
        if action.would_have is ActionKind.REAPPLY_REVISION:
            lines.append("  to re-apply the revision: ecs-watchdog restore ... --reapply-revision")
        return "\n".join(lines)
    else:  # refused, failed, unknown: say how far it got
        lines = [f"Restore of {service} {record.outcome}: {record.error or action.reason}."]
        lines += [f"  called before it stopped: {_call(c)}" for c in record.calls_made]
    lines.append(f"  why: {action.reason}")
    return "\n".join(lines)
