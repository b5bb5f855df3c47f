"""Undo a containment action: restore the desired count, or re-apply the revision rolled away from.

Pure. Undo reads the action's record first and, for a scale to zero, falls back to the
`ecs-watchdog:previous-desired-count` tag on the service, which survives the watchdog's own state.
"""

from __future__ import annotations

from ecs_watchdog.contain.models import (
    PREVIOUS_DESIRED_COUNT_TAG,
    Action,
    ActionKind,
    ActionRecord,
    ApiCall,
    Mode,
    ServiceView,
    action_on,
)

ROLLBACKS = (ActionKind.ROLLBACK_DEPLOYMENT, ActionKind.ROLLBACK_UPDATE_SERVICE)


def plan_undo(view: ServiceView, record: ActionRecord | None, *, service: str, mode: Mode) -> Action:
    """The action that undoes `record` on the service as `view` shows it now.

    Without a record (the watchdog's state was lost) a service scaled to zero is restored from its
    tag. Stands down when there is nothing to undo, or when someone changed the service since.
    """
    base = action_on(
        view,
        kind=ActionKind.STAND_DOWN,
        mode=mode,
        service=service,
        incident_id=record.action.incident_id if record else "",
    )
    base = base.model_copy(update={"after": base.before})
    if record is not None and not record.took_effect:
        return base.model_copy(update={"reason": f"the action was {record.outcome.value}: nothing to undo"})
    kind = record.action.kind if record else ActionKind.SCALE_TO_ZERO
    if kind is ActionKind.SCALE_TO_ZERO:
        return _restore_desired_count(base, view, record)
    if record is not None and kind in ROLLBACKS:
        return _reapply_revision(base, view, record)
    return base.model_copy(update={"reason": f"a {kind.value} action changes nothing to undo"})


def _restore_desired_count(base: Action, view: ServiceView, record: ActionRecord | None) -> Action:
    previous = record.action.previous_desired_count if record else None
    capped = ""
    if previous is None:
        # Only a tag, which anyone allowed to tag the service could have written: bounded before it is used.
        tagged = _tagged_count(view.tags)
        if tagged is None:
            return base.model_copy(
                update={
                    "reason": f"no record of the previous desired count and no valid {PREVIOUS_DESIRED_COUNT_TAG} tag"
                }
            )
        if view.scaling is None:
            return base.model_copy(
                update={
                    "reason": (
                        f"refused: only the {PREVIOUS_DESIRED_COUNT_TAG} tag says {tagged}, the watchdog has no record "
                        "of its own and the service has no scalable target to bound it; set the desired count by "
                        "hand (aws ecs update-service --desired-count N)"
                    )
                }
            )
        previous = min(tagged, view.scaling.max_capacity)
        capped = (
            f" (from the {PREVIOUS_DESIRED_COUNT_TAG} tag, capped at the scalable target's maximum "
            f"{view.scaling.max_capacity})"
            if tagged > view.scaling.max_capacity
            else f" (from the {PREVIOUS_DESIRED_COUNT_TAG} tag, within the scalable target's maximum)"
        )
    if view.desired_count != 0:
        return base.model_copy(
            update={"reason": f"the desired count is {view.desired_count} already: someone restored the service"}
        )
    calls = [
        ApiCall(
            service="ecs",
            operation="UpdateService",
            params={"cluster": view.cluster, "service": view.service, "desiredCount": previous},
        )
    ]
    scaling = record.action.previous_scaling if record else None
    if scaling is not None:
        calls.append(
            ApiCall(
                service="application-autoscaling",
                operation="RegisterScalableTarget",
                params={
                    "ServiceNamespace": "ecs",
                    "ResourceId": scaling.resource_id,
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "SuspendedState": scaling.suspended_state(),
                },
            )
        )
    calls.append(
        ApiCall(
            service="ecs",
            operation="UntagResource",
            params={"resourceArn": view.service_arn, "tagKeys": [PREVIOUS_DESIRED_COUNT_TAG]},
        )
    )
    return base.model_copy(
        update={
            "kind": ActionKind.RESTORE_DESIRED_COUNT,
            "reason": f"restore the desired count to {previous}{capped}"
            + (" and auto scaling as it was" if scaling is not None else ""),
            "calls": tuple(calls),
            "after": base.before.model_copy(update={"desired_count": previous}),
        }
    )


def _reapply_revision(base: Action, view: ServiceView, record: ActionRecord) -> Action:
    rolled_away = record.action.previous_task_definition
    rolled_to = record.action.after.task_definition
    if rolled_away is None:
        return base.model_copy(update={"reason": "the record does not say which revision was rolled away from"})
    if view.task_definition != rolled_to:
        return base.model_copy(
            update={"reason": f"the service runs {_short(view.task_definition)} now, not the rolled-back-to revision"}
        )
    return base.model_copy(
        update={
            "kind": ActionKind.REAPPLY_REVISION,
            "reason": f"re-apply {_short(rolled_away)}, the revision the rollback replaced",
            "calls": (
                ApiCall(
                    service="ecs",
                    operation="UpdateService",
                    params={"cluster": view.cluster, "service": view.service, "taskDefinition": rolled_away},
                ),
            ),
            "after": base.before.model_copy(update={"task_definition": rolled_away}),
        }
    )


MAX_TAG_DIGITS = 5  # ECS caps a service's desired count far below 100,000


def _tagged_count(tags: dict[str, str]) -> int | None:
    """The tag's count: ASCII digits only (`isdigit` alone takes `²` and other scripts' digits), positive."""
    value = tags.get(PREVIOUS_DESIRED_COUNT_TAG, "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_TAG_DIGITS or int(value) == 0:
        return None
    return int(value)


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
