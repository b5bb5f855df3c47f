"""The containment decision: one test per branch, guard and policy rule (docs/containment.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecs_watchdog.contain.decision import confirm_unchanged, decide_containment, effective_mode
from ecs_watchdog.contain.guards import GuardFacts
from ecs_watchdog.contain.models import (
    PREVIOUS_DESIRED_COUNT_TAG,
    Action,
    ActionKind,
    ContainmentPolicy,
    Mode,
    ScalingView,
    ServiceTagAction,
    ServiceView,
)
from ecs_watchdog.incidents.model import Incident, IncidentStatus
from tests.unit.containment_builders import (
    DEPLOYMENT_ARN,
    NOW,
    SERVICE_ARN,
    deploying,
    deployment,
    facts,
    incident,
    steady,
    td,
    view,
)

ENFORCE = ContainmentPolicy(mode=Mode.ENFORCE)


def decide(
    service: ServiceView,
    *,
    the_incident: Incident | None = None,
    lkg: str | None = td(5),
    policy: ContainmentPolicy = ENFORCE,
    tag: ServiceTagAction = ServiceTagAction.AUTO,
    guards: GuardFacts | None = None,
    inactive: frozenset[str] = frozenset(),
) -> Action:
    return decide_containment(
        the_incident or incident(),
        service,
        last_known_good=lkg,
        policy=policy,
        service_tag_action=tag,
        guards=guards or facts(),
        inactive=inactive,
    )


# --- the situations -------------------------------------------------------------------------------


def test_failing_deployment_with_healthy_old_tasks_is_stopped_with_rollback() -> None:
    action = decide(deploying(old_running=2))
    assert action.kind is ActionKind.ROLLBACK_DEPLOYMENT
    assert action.mode is Mode.ENFORCE
    assert [(c.operation, c.params) for c in action.calls] == [
        ("StopServiceDeployment", {"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"})
    ]
    # Where ECS refuses, UpdateService back to the revision still serving.
    assert [(c.operation, c.params) for c in action.fallback_calls] == [
        ("UpdateService", {"cluster": "prod", "service": "api", "taskDefinition": td(5)})
    ]
    assert action.after.task_definition == td(5)


def test_failing_deployment_without_a_known_deployment_arn_rolls_back_with_update_service() -> None:
    action = decide(deploying(old_running=2, arn=None))
    assert action.kind is ActionKind.ROLLBACK_UPDATE_SERVICE
    assert action.calls[0].params["taskDefinition"] == td(5)
    assert action.fallback_calls == ()


def test_rollback_target_is_the_revision_serving_when_no_last_known_good_is_recorded() -> None:
    action = decide(deploying(old_running=1, arn=None), lkg=None)
    assert action.kind is ActionKind.ROLLBACK_UPDATE_SERVICE
    assert action.calls[0].params["taskDefinition"] == td(5)


def test_no_healthy_tasks_rolls_back_to_the_last_known_good() -> None:
    action = decide(steady(running=0), lkg=td(5))
    assert action.kind is ActionKind.ROLLBACK_UPDATE_SERVICE
    assert action.calls[0].params == {"cluster": "prod", "service": "api", "taskDefinition": td(5)}
    assert action.previous_task_definition == td(6)


def test_first_deployment_with_nothing_running_scales_to_zero_and_records_the_count() -> None:
    action = decide(steady(running=0), lkg=None)
    assert action.kind is ActionKind.SCALE_TO_ZERO
    assert [c.operation for c in action.calls] == ["TagResource", "UpdateService"]
    assert action.calls[0].params == {
        "resourceArn": SERVICE_ARN,
        "tags": [{"key": PREVIOUS_DESIRED_COUNT_TAG, "value": "2"}],
    }
    assert action.calls[-1].params == {"cluster": "prod", "service": "api", "desiredCount": 0}
    assert action.previous_desired_count == 2
    assert "infrastructure-as-code deploy" in action.reason


def test_scale_to_zero_suspends_auto_scaling_so_it_sticks() -> None:
    scaling = ScalingView(resource_id="service/prod/api", min_capacity=2, max_capacity=10)
    service = view(deployment(6, running=0, status="PRIMARY", rollout="COMPLETED"), scaling=scaling)
    action = decide(service, lkg=None)
    assert [c.operation for c in action.calls] == ["TagResource", "RegisterScalableTarget", "UpdateService"]
    assert action.calls[1].params["SuspendedState"] == {
        "DynamicScalingInSuspended": True,
        "DynamicScalingOutSuspended": True,
        "ScheduledScalingSuspended": True,
    }
    assert action.previous_scaling == scaling


def test_last_known_good_failing_too_scales_to_zero() -> None:
    action = decide(steady(running=0), lkg=td(5), guards=facts(failing_revisions=frozenset({td(5)})))
    assert action.kind is ActionKind.SCALE_TO_ZERO
    assert "ping-pong" in action.reason


def test_crash_loop_of_the_last_known_good_itself_scales_to_zero() -> None:
    action = decide(steady(running=0, revision=5), the_incident=incident(5), lkg=td(5))
    assert action.kind is ActionKind.SCALE_TO_ZERO
    assert "last known good is the failing revision" in action.reason


def test_failures_in_steady_state_with_tasks_running_only_notify_and_say_why() -> None:
    action = decide(steady(running=2))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.calls == ()
    assert "steady state" in action.reason


def test_nothing_to_roll_back_to_with_failing_tasks_running_never_scales_to_zero() -> None:
    action = decide(deploying(old_running=0, new_running=1), lkg=None)
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert "would stop 1 running tasks" in action.reason


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_other_deployment_controllers_are_notify_only_and_say_so(controller: str) -> None:
    service = view(deployment(6, running=0, status="PRIMARY", rollout="IN_PROGRESS"), controller=controller)
    action = decide(service)
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert controller in action.reason


def test_rollback_to_a_serving_revision_with_its_own_open_incident_is_refused() -> None:
    action = decide(deploying(old_running=2), guards=facts(failing_revisions=frozenset({td(5)})))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert "ping-pong" in action.reason


def test_unknown_cause_never_acts() -> None:
    action = decide(steady(running=0), the_incident=incident(containment_eligible=False))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is None


# --- guards ---------------------------------------------------------------------------------------


def test_one_action_per_incident() -> None:
    action = decide(deploying(old_running=2), guards=facts(incident_acted=True))
    assert action.kind is ActionKind.STAND_DOWN


def test_an_incident_no_longer_open_stands_down() -> None:
    action = decide(deploying(old_running=2), the_incident=incident(status=IncidentStatus.CONTAINED))
    assert action.kind is ActionKind.STAND_DOWN


def test_cooldown_holds_a_second_action_on_the_service() -> None:
    action = decide(deploying(old_running=2), guards=facts(service_last_action_at=NOW - timedelta(minutes=29)))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.ROLLBACK_DEPLOYMENT
    assert "cooldown" in action.reason and action.calls == ()


def test_cooldown_over_allows_the_action() -> None:
    action = decide(deploying(old_running=2), guards=facts(service_last_action_at=NOW - timedelta(minutes=30)))
    assert action.kind is ActionKind.ROLLBACK_DEPLOYMENT


def test_hourly_cap_counts_actions_of_the_last_hour_only() -> None:
    within = tuple(NOW - timedelta(minutes=m) for m in range(1, 11))
    older = (NOW - timedelta(minutes=61),)
    assert decide(deploying(old_running=2), guards=facts(account_action_times=within)).kind is ActionKind.NOTIFY_ONLY
    allowed = decide(deploying(old_running=2), guards=facts(account_action_times=within[:9] + older))
    assert allowed.kind is ActionKind.ROLLBACK_DEPLOYMENT


def test_correlated_failure_guard_pauses_containment() -> None:
    action = decide(steady(running=0), guards=facts(correlated_pause=True))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.ROLLBACK_UPDATE_SERVICE
    assert "paused" in action.reason


def test_a_person_who_rolled_back_first_makes_the_watchdog_stand_down() -> None:
    rolled_back = steady(running=2, revision=5)
    action = decide(rolled_back)
    assert action.kind is ActionKind.STAND_DOWN
    assert "no longer deployed" in action.reason


def test_a_person_who_scaled_to_zero_first_makes_the_watchdog_stand_down() -> None:
    service = view(deployment(6, running=0, status="PRIMARY", rollout="COMPLETED"), desired=0)
    assert decide(service).kind is ActionKind.STAND_DOWN


def test_service_changed_between_decision_and_action_stands_down() -> None:
    action = decide(deploying(old_running=2))
    reread = deploying(old_running=2).model_copy(update={"desired_count": 4})
    confirmed = confirm_unchanged(action, reread)
    assert confirmed.kind is ActionKind.STAND_DOWN
    assert confirmed.would_have is ActionKind.ROLLBACK_DEPLOYMENT
    assert confirmed.calls == ()


def test_running_counts_moving_between_decision_and_action_do_not_stand_down() -> None:
    action = decide(deploying(old_running=2))
    assert confirm_unchanged(action, deploying(old_running=1, new_running=1)) == action


# --- policy and tags ------------------------------------------------------------------------------


def test_dry_run_reports_the_exact_call_and_marks_it_not_made() -> None:
    action = decide(deploying(old_running=2), policy=ContainmentPolicy(mode=Mode.DRY_RUN))
    assert action.kind is ActionKind.ROLLBACK_DEPLOYMENT
    assert action.mode is Mode.DRY_RUN and not action.acts
    assert action.calls[0].operation == "StopServiceDeployment"


def test_notify_mode_says_what_it_would_have_done_without_calls() -> None:
    action = decide(deploying(old_running=2), policy=ContainmentPolicy(mode=Mode.NOTIFY))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.ROLLBACK_DEPLOYMENT
    assert action.calls == ()


def test_ignore_tag_silences_actions_and_messages() -> None:
    action = decide(deploying(old_running=2), tag=ServiceTagAction.IGNORE)
    assert action.kind is ActionKind.STAND_DOWN
    assert action.notify_people is False


def test_notify_tag_lowers_enforce_to_notify() -> None:
    action = decide(steady(running=0), tag=ServiceTagAction.NOTIFY)
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert "action=notify" in action.reason


def test_rollback_tag_never_scales_to_zero() -> None:
    action = decide(steady(running=0), lkg=None, tag=ServiceTagAction.ROLLBACK)
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.SCALE_TO_ZERO


def test_scale_to_zero_tag_replaces_a_rollback_when_nothing_runs() -> None:
    action = decide(steady(running=0), lkg=td(5), tag=ServiceTagAction.SCALE_TO_ZERO)
    assert action.kind is ActionKind.SCALE_TO_ZERO


def test_scale_to_zero_tag_never_stops_healthy_tasks() -> None:
    action = decide(deploying(old_running=2), tag=ServiceTagAction.SCALE_TO_ZERO)
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.would_have is ActionKind.ROLLBACK_DEPLOYMENT


def test_kill_switch_turns_enforce_into_dry_run() -> None:
    action = decide(deploying(old_running=2), guards=facts(kill_switch=True))
    assert action.mode is Mode.DRY_RUN
    assert "kill switch" in action.reason


@pytest.mark.parametrize(
    ("account", "tag", "kill", "expected"),
    [
        (Mode.ENFORCE, ServiceTagAction.AUTO, False, Mode.ENFORCE),
        (Mode.DRY_RUN, ServiceTagAction.ROLLBACK, False, Mode.DRY_RUN),  # a tag never raises the ceiling
        (Mode.NOTIFY, ServiceTagAction.SCALE_TO_ZERO, False, Mode.NOTIFY),
        (Mode.ENFORCE, ServiceTagAction.NOTIFY, False, Mode.NOTIFY),
        (Mode.ENFORCE, ServiceTagAction.AUTO, True, Mode.DRY_RUN),
        (Mode.NOTIFY, ServiceTagAction.AUTO, True, Mode.NOTIFY),
    ],
)
def test_account_mode_is_a_ceiling(account: Mode, tag: ServiceTagAction, kill: bool, expected: Mode) -> None:
    assert effective_mode(account, tag, kill_switch=kill) is expected


@pytest.mark.parametrize(
    ("tags", "expected", "problem"),
    [
        ({}, ServiceTagAction.AUTO, False),
        ({"ecs-watchdog:action": "Rollback"}, ServiceTagAction.ROLLBACK, False),
        ({"ecs-watchdog:action": "scale-to-zero"}, ServiceTagAction.SCALE_TO_ZERO, False),
        ({"ecs-watchdog:action": "rollbak"}, ServiceTagAction.NOTIFY, True),
    ],
)
def test_service_tag_reading(tags: dict[str, str], expected: ServiceTagAction, problem: bool) -> None:
    action, why = ServiceTagAction.from_tags(tags)
    assert action is expected
    assert (why is not None) is problem


# --- the rule above every other -------------------------------------------------------------------


@pytest.mark.parametrize("old_running", [0, 1, 3])
@pytest.mark.parametrize("new_running", [0, 2])
@pytest.mark.parametrize("lkg", [None, td(5), td(6)])
@pytest.mark.parametrize("tag", list(ServiceTagAction))
def test_no_action_ever_stops_running_tasks_by_scaling_to_zero(
    old_running: int, new_running: int, lkg: str | None, tag: ServiceTagAction
) -> None:
    service = deploying(old_running=old_running, new_running=new_running)
    action = decide(service, lkg=lkg, tag=tag)
    if action.kind is ActionKind.SCALE_TO_ZERO:
        assert service.running_count == 0
    if action.kind in (ActionKind.ROLLBACK_DEPLOYMENT, ActionKind.ROLLBACK_UPDATE_SERVICE):
        # A rollback replaces failing tasks; it never targets the failing revision.
        assert action.after.task_definition != td(6)


# --- never fight a person, never ping-pong, never roll back blind (issue 22) ----------------------


def test_a_person_deploying_another_revision_while_the_failing_one_is_listed_is_never_stopped() -> None:
    # Revision 6 still fails and its deployment is still listed; a person deploys the fix, revision 7.
    service = view(
        deployment(7, running=0, status="PRIMARY", rollout="IN_PROGRESS"),
        deployment(6, running=0, status="ACTIVE", rollout="IN_PROGRESS", failed=4),
        deployment(5, running=2, status="ACTIVE", rollout="COMPLETED"),
        arn=DEPLOYMENT_ARN,
    )
    action = decide(service)
    assert action.kind is ActionKind.STAND_DOWN
    assert action.calls == () and action.fallback_calls == ()
    assert "api:7" in action.reason and "does not stop it" in action.reason


def test_rollback_stops_the_current_deployment_of_the_failing_revision() -> None:
    current = DEPLOYMENT_ARN.replace("abc123", "current")
    service = deploying(old_running=2, arn=DEPLOYMENT_ARN).model_copy(
        update={"current_service_deployment_arn": current}
    )
    action = decide(service)
    assert action.calls[0].params["serviceDeploymentArn"] == current


def test_the_revision_just_contained_is_never_a_rollback_target() -> None:
    # 6 was rolled back to 5; while ECS rolls back, 5 fails too: 6 is still running (draining).
    service = view(
        deployment(5, running=0, status="PRIMARY", rollout="IN_PROGRESS", failed=3),
        deployment(6, running=2, status="ACTIVE", rollout="IN_PROGRESS"),
        arn=DEPLOYMENT_ARN,
    )
    action = decide(service, the_incident=incident(5), lkg=td(6), guards=facts(failing_revisions=frozenset({td(6)})))
    assert action.kind is ActionKind.NOTIFY_ONLY
    assert action.calls == ()
    assert "ping-pong" in action.reason


def test_a_deregistered_last_known_good_is_never_the_target_of_update_service() -> None:
    action = decide(steady(running=0), inactive=frozenset({td(5)}))
    assert not any(c.params.get("taskDefinition") == td(5) for c in action.calls + action.fallback_calls)
    assert "INACTIVE" in action.reason


def test_stopping_a_deployment_back_to_a_deregistered_revision_has_no_update_service_fallback() -> None:
    action = decide(deploying(old_running=2), inactive=frozenset({td(5)}))
    assert action.kind is ActionKind.ROLLBACK_DEPLOYMENT
    assert action.fallback_calls == ()


def test_cooldown_is_waived_for_a_rollback_to_the_revision_the_last_rollback_proved() -> None:
    recent = NOW - timedelta(minutes=10)
    waived = decide(
        deploying(old_running=2), guards=facts(service_last_action_at=recent, service_last_rollback_to=td(5))
    )
    assert waived.kind is ActionKind.ROLLBACK_DEPLOYMENT
    other = decide(
        deploying(old_running=2), guards=facts(service_last_action_at=recent, service_last_rollback_to=td(4))
    )
    assert other.kind is ActionKind.NOTIFY_ONLY and "cooldown" in other.reason


def test_the_action_remembers_the_deployment_it_was_decided_for() -> None:
    action = decide(deploying(old_running=2), the_incident=incident(deployment_id="ecs-svc/6"))
    assert action.deployment_id == "ecs-svc/6"
