"""The containment decision: for an open incident and a freshly described service, what to do.

Pure. The rule that outranks every other: never reduce the number of healthy tasks serving
traffic. ECS events carry no task health, so "healthy" is approximated from DescribeServices:
the running tasks of every deployment whose revision is not the failing one. Tasks of the failing
revision that are running are never called healthy, but they are never stopped by a scale to zero
either: the service is scaled to zero only when nothing at all is running.

Order (the first that applies wins; docs/containment.md has the table):
1. tag `ignore` → stand down, and say nothing;
2. a CODE_DEPLOY or EXTERNAL deployment controller → notify only (ECS rollbacks do not apply);
3. the incident is not open, was already acted on, or a person changed the service → stand down;
4. the incident's cause is not in the revision (configuration, platform) or is `unknown` → notify only,
   naming the setting to check (contain/causes.py);
5. the situation picks rollback, scale to zero or notify only;
6. the service tag narrows it (rollback only, scale to zero only);
7. transient start-up failures (contain/transient.py), the correlated-failure guard, the per-service
   cooldown and the account's hourly cap hold it back;
8. the effective mode — the account mode, lowered by a `notify` or `approve` tag or the kill switch — says
   whether the calls are made (enforce), proposed for a person to approve (approve), reported (dry-run)
   or not mentioned (notify).
"""

from __future__ import annotations

from ecs_watchdog.contain import guards as g
from ecs_watchdog.contain.causes import not_the_revision
from ecs_watchdog.contain.models import (
    ECS_CONTROLLER,
    PREVIOUS_DESIRED_COUNT_TAG,
    Action,
    ActionKind,
    ApiCall,
    ContainmentPolicy,
    Counts,
    Mode,
    ServiceTagAction,
    ServiceView,
    action_on,
)
from ecs_watchdog.incidents.model import Incident, IncidentStatus

ROLLBACKS = (ActionKind.ROLLBACK_DEPLOYMENT, ActionKind.ROLLBACK_UPDATE_SERVICE)
ALL_SUSPENDED = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}


def decide_containment(
    incident: Incident,
    view: ServiceView,
    *,
    last_known_good: str | None,
    policy: ContainmentPolicy,
    service_tag_action: ServiceTagAction,
    guards: g.GuardFacts,
    inactive: frozenset[str] = frozenset(),
) -> Action:
    """The one action for `incident`, decided on `view` (a DescribeServices made just before).
    `inactive`: task definitions known to be deregistered (ECS updates no service to one).

    Never returns an action whose calls would lower the count of healthy running tasks.
    """
    base = _base(incident, view)
    if service_tag_action is ServiceTagAction.IGNORE:
        return _not_acting(base, ActionKind.STAND_DOWN, "the service is tagged ecs-watchdog:action=ignore", quiet=True)
    if view.deployment_controller != ECS_CONTROLLER:
        return _not_acting(
            base,
            ActionKind.NOTIFY_ONLY,
            f"the service's deployments are run by {view.deployment_controller}, not ECS: roll back or scale "
            f"it with {view.deployment_controller}; the watchdog does not act on it",
        )
    if incident.status is not IncidentStatus.OPEN:
        return _not_acting(base, ActionKind.STAND_DOWN, f"the incident is {incident.status.value}, not open")
    for held in (
        g.already_acted(guards),
        g.changed_since_incident(incident, view),
        g.not_the_service_target(incident, view),
    ):
        if held:
            return _not_acting(base, ActionKind.STAND_DOWN, held)
    if not incident.containment_eligible:
        return _not_acting(base, ActionKind.NOTIFY_ONLY, not_the_revision(incident))

    chosen = _by_situation(base, incident, view, last_known_good, guards, inactive)
    chosen = _narrow_by_tag(chosen, service_tag_action, view)
    if not chosen.kind.changes_service:
        return chosen
    # The cooldown waiver: a rollback to the revision the last rollback went to, which the service has run
    # healthy since (it is the last known good again).
    target = chosen.after.task_definition if chosen.kind in ROLLBACKS else None
    rolling_back_to = target if target == last_known_good else None
    held = (
        g.transient_start_up(guards)
        or g.correlated_pause(guards)
        or g.in_cooldown(guards, policy, rolling_back_to=rolling_back_to)
        or g.over_hourly_cap(guards, policy)
    )
    if held:
        return _hold(chosen, held)
    mode = effective_mode(policy.mode, service_tag_action, kill_switch=guards.kill_switch)
    if mode is Mode.NOTIFY:
        return _hold(chosen, _mode_reason(policy.mode, service_tag_action, guards.kill_switch))
    if mode is not policy.mode:
        chosen = chosen.model_copy(
            update={"reason": f"{chosen.reason} ({_mode_reason(policy.mode, service_tag_action, guards.kill_switch)})"}
        )
    return chosen.model_copy(update={"mode": mode})


def effective_mode(account_mode: Mode, tag: ServiceTagAction, *, kill_switch: bool) -> Mode:
    """The account mode is a ceiling: a `notify` (or `ignore`) tag lowers it to notify, an `approve` tag
    to approve; the kill switch lowers it to dry-run, so people still read what would have been done."""
    mode = account_mode
    if tag in (ServiceTagAction.NOTIFY, ServiceTagAction.IGNORE):
        mode = Mode.NOTIFY
    if tag is ServiceTagAction.APPROVE and mode.rank > Mode.APPROVE.rank:
        mode = Mode.APPROVE
    if kill_switch and mode.rank > Mode.DRY_RUN.rank:
        mode = Mode.DRY_RUN
    return mode


def confirm_unchanged(action: Action, reread: ServiceView) -> Action:
    """Right before acting: stand down when the service read again differs from the one decided on."""
    held = g.changed_before_acting(action, reread)
    if held is None or not action.kind.changes_service:
        return action
    return action.model_copy(
        update={
            "kind": ActionKind.STAND_DOWN,
            "would_have": action.kind,
            "reason": held,
            "calls": (),
            "fallback_calls": (),
        }
    )


def effect_visible(action: Action, view: ServiceView) -> bool:
    """Whether the service as described now shows what the action set out to do: for an action whose
    answer or record was lost, the difference between done and never made."""
    if action.kind is ActionKind.ROLLBACK_DEPLOYMENT:
        # ECS's own rollback picks the revision it returns to: the failing one no longer primary is the effect.
        return view.task_definition != action.before.task_definition
    if action.kind in ROLLBACKS or action.kind is ActionKind.REAPPLY_REVISION:
        target = action.after.task_definition
        return target is not None and view.task_definition == target != action.before.task_definition
    if action.kind in (ActionKind.SCALE_TO_ZERO, ActionKind.RESTORE_DESIRED_COUNT):
        return view.desired_count == action.after.desired_count != action.before.desired_count
    return False


# --------------------------------------------------------------------------------------------------
# The situation


def _by_situation(
    base: Action,
    incident: Incident,
    view: ServiceView,
    last_known_good: str | None,
    guards: g.GuardFacts,
    inactive: frozenset[str],
) -> Action:
    failing = incident.task_definition or view.task_definition
    healthy = view.running_other_than(failing)
    running_failing = view.running_of(failing)
    running_total = max(view.running_count, healthy + running_failing)
    deploying = bool(view.in_progress())

    if deploying and healthy > 0:
        target = _serving_revision(view, failing, last_known_good)
        held = g.ping_pong(target, guards) or _deregistered(target, view, inactive)
        if held:
            return _not_acting(base, ActionKind.NOTIFY_ONLY, f"{held}; {healthy} tasks of other revisions keep serving")
        return _rollback(base, view, target, f"{healthy} tasks of {_short(target)} are still running", inactive)
    if healthy > 0 or (running_failing > 0 and not deploying):
        return _not_acting(
            base,
            ActionKind.NOTIFY_ONLY,
            f"{running_total} tasks are running and no deployment is in progress: failures continue in steady "
            "state, and rolling back or scaling to zero could stop tasks that serve traffic; a person should decide",
        )
    unusable = _unusable_target(last_known_good, failing, view, guards, inactive)
    if last_known_good is not None and unusable is None:
        return _rollback(base, view, last_known_good, "no task of the failing revision is healthy", inactive)
    nothing_to_roll_back_to = unusable or "there is no last known good"
    if running_total > 0:
        return _not_acting(
            base,
            ActionKind.NOTIFY_ONLY,
            f"{nothing_to_roll_back_to}, and scaling to zero would stop {running_total} running tasks",
        )
    return _scale_to_zero(base, view, f"no task is running and {nothing_to_roll_back_to}")


def _unusable_target(
    last_known_good: str | None, failing: str, view: ServiceView, guards: g.GuardFacts, inactive: frozenset[str]
) -> str | None:
    """Why the last known good cannot be rolled back to, or None when it can."""
    if last_known_good is None:
        return "there is no last known good"
    if last_known_good == failing:
        return "the last known good is the failing revision"
    return g.ping_pong(last_known_good, guards) or _deregistered(last_known_good, view, inactive)


def _deregistered(target: str, view: ServiceView, inactive: frozenset[str]) -> str | None:
    """Why `target` cannot be rolled back to because it is INACTIVE — unless StopServiceDeployment's own
    rollback (to the service revision it replaced) can still use it."""
    if target in inactive and not _stoppable(view):
        return f"{_short(target)} was deregistered (INACTIVE): ECS updates no service to an INACTIVE task definition"
    return None


def _stoppable(view: ServiceView) -> bool:
    return bool(view.in_progress()) and _failing_deployment_arn(view) is not None


def _failing_deployment_arn(view: ServiceView) -> str | None:
    """The service deployment that deploys the failing revision: the current one (DescribeServices'
    `currentServiceDeployment`, the deployment of its primary revision, which the guards made sure is the
    failing one); the IN_PROGRESS one ListServiceDeployments names only when DescribeServices names none."""
    return view.current_service_deployment_arn or view.in_progress_service_deployment_arn


def _serving_revision(view: ServiceView, failing: str, last_known_good: str | None) -> str:
    """The revision a rollback returns to: the last known good when it runs, else the one running most."""
    others = [d for d in view.deployments if d.task_definition != failing and d.running_count > 0]
    if last_known_good and any(d.task_definition == last_known_good for d in others):
        return last_known_good
    return max(others, key=lambda d: d.running_count).task_definition


def _rollback(base: Action, view: ServiceView, target: str, why: str, inactive: frozenset[str]) -> Action:
    update = ApiCall(
        service="ecs",
        operation="UpdateService",
        params={"cluster": view.cluster, "service": view.service, "taskDefinition": target},
    )
    after = Counts(task_definition=target, desired_count=view.desired_count, running_count=view.running_count)
    deployment_arn = _failing_deployment_arn(view)
    if view.in_progress() and deployment_arn:
        stop = ApiCall(
            service="ecs",
            operation="StopServiceDeployment",
            params={"serviceDeploymentArn": deployment_arn, "stopType": "ROLLBACK"},
        )
        return base.model_copy(
            update={
                "kind": ActionKind.ROLLBACK_DEPLOYMENT,
                "reason": f"stop the failing deployment and roll back to {_short(target)}: {why}",
                "calls": (stop,),
                # ECS updates no service to an INACTIVE task definition: then there is no fallback.
                "fallback_calls": () if target in inactive else (update,),
                "after": after,
            }
        )
    return base.model_copy(
        update={
            "kind": ActionKind.ROLLBACK_UPDATE_SERVICE,
            "reason": f"roll back to {_short(target)}: {why}",
            "calls": (update,),
            "after": after,
        }
    )


def _scale_to_zero(base: Action, view: ServiceView, why: str) -> Action:
    # Tag first: the previous count must survive even if the watchdog's own state is lost.
    calls = [
        ApiCall(
            service="ecs",
            operation="TagResource",
            params={
                "resourceArn": view.service_arn,
                "tags": [{"key": PREVIOUS_DESIRED_COUNT_TAG, "value": str(view.desired_count)}],
            },
        )
    ]
    if view.scaling is not None:
        # Otherwise Application Auto Scaling scales the service straight back out.
        calls.append(
            ApiCall(
                service="application-autoscaling",
                operation="RegisterScalableTarget",
                params={
                    "ServiceNamespace": "ecs",
                    "ResourceId": view.scaling.resource_id,
                    "ScalableDimension": "ecs:service:DesiredCount",
                    "SuspendedState": dict(ALL_SUSPENDED),
                },
            )
        )
    calls.append(
        ApiCall(
            service="ecs",
            operation="UpdateService",
            params={"cluster": view.cluster, "service": view.service, "desiredCount": 0},
        )
    )
    return base.model_copy(
        update={
            "kind": ActionKind.SCALE_TO_ZERO,
            "reason": (
                f"scale to zero from {view.desired_count}: {why}. The next infrastructure-as-code deploy "
                "(CloudFormation, Terraform) may set the desired count and auto scaling back"
            ),
            "calls": tuple(calls),
            "after": Counts(task_definition=view.task_definition, desired_count=0, running_count=0),
            "previous_scaling": view.scaling,
        }
    )


def _narrow_by_tag(chosen: Action, tag: ServiceTagAction, view: ServiceView) -> Action:
    if tag is ServiceTagAction.ROLLBACK and chosen.kind is ActionKind.SCALE_TO_ZERO:
        return _hold(chosen, "the service is tagged ecs-watchdog:action=rollback, which never scales it to zero")
    if tag is ServiceTagAction.SCALE_TO_ZERO and chosen.kind in ROLLBACKS:
        running = max(view.running_count, sum(d.running_count for d in view.deployments))
        if running > 0:
            return _hold(
                chosen,
                f"the service is tagged ecs-watchdog:action=scale-to-zero, which never rolls it back, and "
                f"scaling to zero would stop {running} running tasks",
            )
        return _scale_to_zero(
            chosen, view, "the service is tagged ecs-watchdog:action=scale-to-zero, which never rolls it back"
        )
    return chosen


# --------------------------------------------------------------------------------------------------
# Building actions


def _base(incident: Incident, view: ServiceView) -> Action:
    action = action_on(
        view, kind=ActionKind.NOTIFY_ONLY, mode=Mode.NOTIFY, service=incident.service, incident_id=incident.id
    )
    return action.model_copy(update={"deployment_id": incident.deployment_id})


def _not_acting(base: Action, kind: ActionKind, reason: str, *, quiet: bool = False) -> Action:
    return base.model_copy(
        update={"kind": kind, "mode": Mode.NOTIFY, "reason": reason, "notify_people": not quiet, "after": base.before}
    )


def _hold(chosen: Action, why: str) -> Action:
    """Notify only, saying what the watchdog would have done and why it did not."""
    return chosen.model_copy(
        update={
            "kind": ActionKind.NOTIFY_ONLY,
            "mode": Mode.NOTIFY,
            "would_have": chosen.kind,
            "reason": f"{why}; it would have done this: {chosen.reason}",
            "calls": (),
            "fallback_calls": (),
            "after": chosen.before,
        }
    )


def _mode_reason(account_mode: Mode, tag: ServiceTagAction, kill_switch: bool) -> str:
    if tag is ServiceTagAction.NOTIFY:
        return "the service is tagged ecs-watchdog:action=notify"
    if tag is ServiceTagAction.APPROVE and not kill_switch:
        return "the service is tagged ecs-watchdog:action=approve: proposed, made when a person approves it"
    if account_mode is Mode.NOTIFY:
        return "the account's containment mode is notify"
    if kill_switch:
        return "the kill switch is engaged: reported, not made"
    return f"the account's containment mode is {account_mode.value}"


def _short(task_definition: str) -> str:
    return task_definition.rsplit("/", 1)[-1]
