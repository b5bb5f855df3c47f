"""Undo plans and carrying an action out through a call maker (no AWS: a recording fake)."""

from __future__ import annotations

from ecs_watchdog.contain.decision import decide_containment, effect_visible
from ecs_watchdog.contain.execute import carry_out
from ecs_watchdog.contain.models import (
    PREVIOUS_DESIRED_COUNT_TAG,
    Action,
    ActionKind,
    ActionRecord,
    ApiCall,
    CallOutcomeUnknown,
    CallRefused,
    ContainmentPolicy,
    Mode,
    Outcome,
    ScalingView,
    ServiceTagAction,
    ServiceView,
)
from ecs_watchdog.contain.undo import plan_undo
from tests.unit.containment_builders import NOW, SERVICE_ARN, deploying, deployment, facts, incident, steady, td, view

SERVICE_KEY = incident().service


class RecordingCalls:
    """Records calls; refuses or fails the operations it is told to."""

    def __init__(self, refuse: str = "", fail: str = "", *, dry_run: bool = False) -> None:
        self.made: list[ApiCall] = []
        self._refuse, self._fail = refuse, fail
        self.dry_run = dry_run

    def make(self, call: ApiCall) -> None:
        if call.operation == self._refuse:
            raise CallRefused(call, "ConflictException", "a rollback is already in progress")
        if call.operation == self._fail:
            raise RuntimeError("throttled")
        self.made.append(call)


def decided(service: ServiceView, *, lkg: str | None = td(5), mode: Mode = Mode.ENFORCE) -> Action:
    return decide_containment(
        incident(),
        service,
        last_known_good=lkg,
        policy=ContainmentPolicy(mode=mode),
        service_tag_action=ServiceTagAction.AUTO,
        guards=facts(),
    )


# --- carry_out ------------------------------------------------------------------------------------


def test_enforced_rollback_makes_the_stop_call() -> None:
    service = deploying(old_running=2)
    calls = RecordingCalls()
    record = carry_out(decided(service), service, calls, NOW)
    assert record.outcome is Outcome.DONE and record.took_effect
    assert [c.operation for c in calls.made] == ["StopServiceDeployment"]


def test_refused_stop_falls_back_to_update_service() -> None:
    service = deploying(old_running=2)
    calls = RecordingCalls(refuse="StopServiceDeployment")
    record = carry_out(decided(service), service, calls, NOW)
    assert record.outcome is Outcome.FALLBACK_DONE
    assert [c.operation for c in calls.made] == ["UpdateService"]
    assert "ConflictException" in (record.error or "")


def test_dry_run_makes_no_call_and_records_the_intended_ones() -> None:
    service = deploying(old_running=2)
    calls = RecordingCalls()
    record = carry_out(decided(service, mode=Mode.DRY_RUN), service, calls, NOW)
    assert record.outcome is Outcome.DRY_RUN
    assert calls.made == []
    assert record.action.calls[0].operation == "StopServiceDeployment"


def test_person_changed_the_service_just_before_the_action() -> None:
    service = deploying(old_running=2)
    action = decided(service)
    someone_rolled_back = steady(running=2, revision=5)
    calls = RecordingCalls()
    record = carry_out(action, someone_rolled_back, calls, NOW)
    assert record.outcome is Outcome.NOT_ACTED
    assert record.action.kind is ActionKind.STAND_DOWN
    assert calls.made == []


def test_failure_part_way_records_how_far_it_got() -> None:
    service = steady(running=0)
    calls = RecordingCalls(fail="UpdateService")
    record = carry_out(decided(service, lkg=None), service, calls, NOW)
    assert record.outcome is Outcome.FAILED
    assert [c.operation for c in record.calls_made] == ["TagResource"]
    assert "throttled" in (record.error or "")


def test_record_survives_a_json_round_trip_with_its_fingerprint() -> None:
    service = deploying(old_running=2)
    record = carry_out(decided(service), service, RecordingCalls(), NOW)
    again = ActionRecord.model_validate_json(record.model_dump_json())
    assert again == record
    assert carry_out(again.action, service, RecordingCalls(), NOW).outcome is Outcome.DONE


# --- undo -----------------------------------------------------------------------------------------


def scaled_to_zero_record(scaling: ScalingView | None = None) -> tuple[ActionRecord, ServiceView]:
    service = view(deployment(6, running=0, status="PRIMARY", rollout="COMPLETED"), desired=3, scaling=scaling)
    record = carry_out(decided(service, lkg=None), service, RecordingCalls(), NOW)
    assert record.action.kind is ActionKind.SCALE_TO_ZERO
    after = service.model_copy(update={"desired_count": 0, "tags": {PREVIOUS_DESIRED_COUNT_TAG: "3"}})
    return record, after


def test_undo_scale_to_zero_restores_count_scaling_and_removes_the_tag() -> None:
    scaling = ScalingView(
        resource_id="service/prod/api", min_capacity=1, max_capacity=6, scheduled_scaling_suspended=True
    )
    record, now_view = scaled_to_zero_record(scaling)
    undo = plan_undo(now_view, record, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.RESTORE_DESIRED_COUNT
    assert [(c.operation, c.params) for c in undo.calls] == [
        ("UpdateService", {"cluster": "prod", "service": "api", "desiredCount": 3}),
        (
            "RegisterScalableTarget",
            {
                "ServiceNamespace": "ecs",
                "ResourceId": "service/prod/api",
                "ScalableDimension": "ecs:service:DesiredCount",
                # restored as it was, not blindly unsuspended
                "SuspendedState": {
                    "DynamicScalingInSuspended": False,
                    "DynamicScalingOutSuspended": False,
                    "ScheduledScalingSuspended": True,
                },
            },
        ),
        ("UntagResource", {"resourceArn": SERVICE_ARN, "tagKeys": [PREVIOUS_DESIRED_COUNT_TAG]}),
    ]


SCALING = ScalingView(resource_id="service/prod/api", min_capacity=1, max_capacity=6)


def test_undo_without_the_watchdogs_state_reads_the_tag_within_the_scalable_targets_maximum() -> None:
    _, now_view = scaled_to_zero_record(SCALING)
    undo = plan_undo(now_view, None, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.RESTORE_DESIRED_COUNT
    assert undo.calls[0].params["desiredCount"] == 3
    assert "from the ecs-watchdog:previous-desired-count tag" in undo.reason


def test_a_planted_tag_without_the_watchdogs_record_is_capped_at_the_scalable_targets_maximum() -> None:
    _, now_view = scaled_to_zero_record(SCALING)
    planted = now_view.model_copy(update={"tags": {PREVIOUS_DESIRED_COUNT_TAG: "4000"}})
    undo = plan_undo(planted, None, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.calls[0].params["desiredCount"] == 6
    assert "capped at the scalable target's maximum 6" in undo.reason


def test_a_tag_alone_with_nothing_to_bound_it_is_refused_and_says_so() -> None:
    _, now_view = scaled_to_zero_record()
    undo = plan_undo(now_view, None, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.STAND_DOWN and undo.calls == ()
    assert undo.reason.startswith("refused") and "by hand" in undo.reason


def test_a_tag_of_other_scripts_digits_is_not_a_count() -> None:
    _, now_view = scaled_to_zero_record(SCALING)
    for value in ("³", "٣", "-1", "0", "1e3", "999999"):
        planted = now_view.model_copy(update={"tags": {PREVIOUS_DESIRED_COUNT_TAG: value}})
        assert plan_undo(planted, None, service=SERVICE_KEY, mode=Mode.ENFORCE).kind is ActionKind.STAND_DOWN


def test_undo_stands_down_when_someone_already_restored_the_count() -> None:
    record, now_view = scaled_to_zero_record()
    undo = plan_undo(now_view.model_copy(update={"desired_count": 2}), record, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.STAND_DOWN


def test_undo_rollback_reapplies_the_revision_rolled_away_from() -> None:
    service = steady(running=0)
    record = carry_out(decided(service), service, RecordingCalls(), NOW)
    assert record.action.kind is ActionKind.ROLLBACK_UPDATE_SERVICE
    rolled_back = steady(running=2, revision=5)
    undo = plan_undo(rolled_back, record, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.REAPPLY_REVISION
    assert undo.calls[0].params == {"cluster": "prod", "service": "api", "taskDefinition": td(6)}


def test_undo_rollback_stands_down_when_the_service_moved_on() -> None:
    service = steady(running=0)
    record = carry_out(decided(service), service, RecordingCalls(), NOW)
    undo = plan_undo(steady(running=2, revision=7), record, service=SERVICE_KEY, mode=Mode.ENFORCE)
    assert undo.kind is ActionKind.STAND_DOWN


def test_nothing_to_undo_after_a_dry_run() -> None:
    service = steady(running=0)
    record = carry_out(decided(service, mode=Mode.DRY_RUN), service, RecordingCalls(), NOW)
    assert plan_undo(service, record, service=SERVICE_KEY, mode=Mode.ENFORCE).kind is ActionKind.STAND_DOWN


# --- honest outcomes (issue 22) ---------------------------------------------------------------------


def test_an_adapter_that_makes_no_call_never_reports_one_done() -> None:
    # Enforce decided it; the account went back to dry-run, so the adapter makes nothing.
    service = deploying(old_running=2)
    calls = RecordingCalls(dry_run=True)
    record = carry_out(decided(service), service, calls, NOW)
    assert record.outcome is Outcome.DRY_RUN
    assert record.action.mode is Mode.DRY_RUN
    assert not record.took_effect


def test_a_call_whose_answer_was_lost_is_unknown_not_done_or_failed() -> None:
    class LostAnswer(RecordingCalls):
        def make(self, call: ApiCall) -> None:
            raise CallOutcomeUnknown(call, "ReadTimeoutError")

    service = deploying(old_running=2)
    record = carry_out(decided(service), service, LostAnswer(), NOW)
    assert record.outcome is Outcome.UNKNOWN
    assert not record.took_effect and record.retry_later
    assert "may or may not" in (record.error or "")


def test_the_effect_of_a_rollback_is_read_from_the_service() -> None:
    action = decided(deploying(old_running=2))
    rolled_back = view(deployment(5, running=2, status="PRIMARY", rollout="IN_PROGRESS"))
    assert effect_visible(action, rolled_back)
    assert not effect_visible(action, deploying(old_running=2))
