"""The Lambda lifecycle hook function's decision, with a fake state store and fake ECS lookups.

Fail-open is the rule under test as much as the verdicts: anything the watchdog cannot do answers SUCCEEDED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ecs_watchdog.contain.models import Mode
from ecs_watchdog.gate.hooks import FIRST_ASKED_KEY
from ecs_watchdog.gate.lambda_hook import LambdaHookGate
from ecs_watchdog.gate.target import revision_held_back
from ecs_watchdog.incidents.model import DeploymentRecord, IncidentStatus, RevisionHealth, ServiceState
from tests.unit.containment_builders import DEPLOYMENT_ARN, NOW, SERVICE_ARN, incident, td

SERVICE_KEY = "123456789012/us-east-1/prod/api"
REVISION_ARN = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/api/0123"
# The documented shape (tests/fixtures/events/lambda_hook_invocation.json): the service and the target
# revision inside executionDetails, the stage at the top.
PAYLOAD = {
    "executionId": "execution-1",
    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    "resourceArn": DEPLOYMENT_ARN,
    "executionDetails": {
        "serviceArn": SERVICE_ARN,
        "targetServiceRevisionArn": REVISION_ARN,
        "testTrafficWeights": {REVISION_ARN: 100},
        "productionTrafficWeights": {REVISION_ARN: 0},
    },
}


def at_stage(stage: str, **changes: Any) -> dict[str, Any]:
    return {**PAYLOAD, "lifecycleStage": stage, **changes}


class FakeRevisions:
    def __init__(
        self, task_definition: str = td(6), *, rolling_back: bool = False, tags: dict[str, str] | None = None
    ) -> None:
        self.task_definition, self.is_rolling_back = task_definition, rolling_back
        self.tags = tags or {}
        self.rollback_checks = 0

    def task_definition_of(self, revision_arn: str) -> str:
        assert revision_arn == REVISION_ARN
        return self.task_definition

    def rolling_back(self, cluster: str, service: str) -> bool:
        assert (cluster, service) == ("prod", "api")
        self.rollback_checks += 1
        return self.is_rolling_back

    def service_tags(self, service_arn: str) -> dict[str, str]:
        assert service_arn == SERVICE_ARN
        return self.tags


class FakeStore:
    def __init__(self, state: ServiceState | None) -> None:
        self.state, self.loads = state, []

    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None:
        self.loads.append((service, fresh))
        return self.state


class Broken:
    """Any lookup raises, as an unreachable ECS or DynamoDB would."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_: object, **__: object) -> None:
            raise ConnectionError(f"{name}: endpoint unreachable")

        return fail


def state(*incidents: Any, revisions: dict[str, RevisionHealth] | None = None) -> ServiceState:
    return ServiceState(service=SERVICE_KEY, incidents={i.id: i for i in incidents}, revisions=revisions or {})


def gate(
    store_state: ServiceState | None, revisions: Any = None, store: Any = None, mode: Mode = Mode.ENFORCE
) -> LambdaHookGate:
    return LambdaHookGate(revisions or FakeRevisions(), store or FakeStore(store_state), mode=mode, clock=lambda: NOW)


def test_target_with_an_open_incident_fails_the_hook_so_ecs_rolls_back() -> None:
    answer = gate(state(incident(6))).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "FAILED"}
    assert (answer.service, answer.task_definition, answer.trouble) == (SERVICE_KEY, td(6), False)
    assert (answer.lifecycle_stage, answer.execution_id) == ("POST_TEST_TRAFFIC_SHIFT", "execution-1")


def test_the_old_flat_shape_is_not_read_it_fails_open_and_says_what_is_missing() -> None:
    # An earlier revision of the docs put serviceArn and targetServiceRevisionArn at the top; ECS does not.
    flat = {"serviceArn": SERVICE_ARN, "targetServiceRevisionArn": REVISION_ARN, "lifecycleStage": "POST_SCALE_UP"}
    answer = gate(state(incident(6))).answer(flat)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, True)
    assert "executionDetails" in answer.reason


def test_target_without_an_incident_succeeds_without_asking_about_rollbacks() -> None:
    revisions = FakeRevisions()
    answer = gate(state(incident(5)), revisions).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert revisions.rollback_checks == 0


def test_a_service_the_watchdog_never_saw_succeeds() -> None:
    assert gate(None).answer(PAYLOAD).response == {"hookStatus": "SUCCEEDED"}


def test_a_contained_revision_redeployed_is_held_like_an_open_one() -> None:
    # It was rolled back for failing; deploying it again must not pass the gate.
    answer = gate(state(incident(6, status=IncidentStatus.CONTAINED))).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "FAILED"}


def test_a_revision_contained_by_the_watchdog_stays_held_after_its_incident_resolves() -> None:
    # The rollback's completion resolved the incident; the revision itself was never healthy since.
    resolved = incident(6, status=IncidentStatus.RESOLVED, resolved_at=NOW)
    revisions = {td(6): RevisionHealth(failures_since_healthy=3, contained_at=NOW - timedelta(minutes=5))}
    assert gate(state(resolved, revisions=revisions)).answer(PAYLOAD).response == {"hookStatus": "FAILED"}


def test_a_revision_ecs_rolled_back_stays_held_after_the_rollback_completes() -> None:
    resolved = incident(
        6, status=IncidentStatus.RESOLVED, resolved_at=NOW, containment={"outcome": "ecs_rollback", "reason": "r"}
    )
    assert gate(state(resolved)).answer(PAYLOAD).response == {"hookStatus": "FAILED"}


def test_a_contained_revision_that_has_been_healthy_since_is_let_through() -> None:
    resolved = incident(6, status=IncidentStatus.RESOLVED, resolved_at=NOW - timedelta(hours=1))
    resolved = resolved.model_copy(update={"containment": {"outcome": "ecs_rollback"}})
    healthy = {td(6): RevisionHealth(healthy_at=NOW, contained_at=NOW - timedelta(hours=2))}
    assert gate(state(resolved, revisions=healthy)).answer(PAYLOAD).response == {"hookStatus": "SUCCEEDED"}


def test_an_incident_resolved_without_containment_does_not_block() -> None:
    resolved = incident(6, status=IncidentStatus.RESOLVED, resolved_at=NOW)
    assert gate(state(resolved)).answer(PAYLOAD).response == {"hookStatus": "SUCCEEDED"}


def test_the_state_is_read_fresh_for_the_service_named_by_the_payload() -> None:
    store = FakeStore(None)
    gate(None, store=store).answer(PAYLOAD)
    assert store.loads == [(SERVICE_KEY, True)]


def test_failures_without_an_incident_yet_ask_ecs_to_call_again() -> None:
    undecided = state(revisions={td(6): RevisionHealth(failures_since_healthy=2, last_failure_at=NOW)})
    answer = gate(undecided).answer(PAYLOAD)
    assert answer.response["hookStatus"] == "IN_PROGRESS"
    assert answer.response["callBackDelay"] == 30
    assert answer.response["hookDetails"] == {FIRST_ASKED_KEY: NOW.isoformat()}


def test_still_undecided_after_fifteen_minutes_lets_the_deployment_continue() -> None:
    undecided = state(revisions={td(6): RevisionHealth(failures_since_healthy=1)})
    asked_before = at_stage(
        "POST_TEST_TRAFFIC_SHIFT", hookDetails={FIRST_ASKED_KEY: (NOW - timedelta(minutes=15)).isoformat()}
    )
    assert gate(undecided).answer(asked_before).response == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("stage", ["TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"])
def test_during_a_rollback_a_traffic_shift_hook_never_blocks_even_a_revision_with_an_open_incident(stage: str) -> None:
    # ECS runs these two stages again while it rolls back; there is no rollback stage of its own.
    revisions = FakeRevisions(rolling_back=True)
    answer = gate(state(incident(6)), revisions).answer(at_stage(stage))
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert revisions.rollback_checks == 1
    assert "rollback" in answer.reason


def test_the_stage_ecs_names_decides_not_hook_details() -> None:
    # The workaround of naming the stage in hookDetails is gone: ECS names it in lifecycleStage.
    named = at_stage("POST_TEST_TRAFFIC_SHIFT", hookDetails={"lifecycleStage": "TEST_TRAFFIC_SHIFT"})
    answer = gate(state(incident(6)), FakeRevisions(rolling_back=True)).answer(named)
    assert answer.response == {"hookStatus": "FAILED"}


def test_hook_details_ecs_hands_back_are_kept_and_extended() -> None:
    undecided = state(revisions={td(6): RevisionHealth(failures_since_healthy=1)})
    answer = gate(undecided).answer(at_stage("POST_SCALE_UP", hookDetails={"team": "payments"}))
    assert answer.response["hookDetails"] == {"team": "payments", FIRST_ASKED_KEY: NOW.isoformat()}


def test_the_stages_the_gate_knows_are_botocores() -> None:
    import botocore.session

    from ecs_watchdog.gate.hooks import LIFECYCLE_STAGES, TRAFFIC_SHIFT_STAGES

    model = botocore.session.get_session().get_service_model("ecs")
    assert tuple(model.shape_for("DeploymentLifecycleHookStage").enum) == LIFECYCLE_STAGES
    assert TRAFFIC_SHIFT_STAGES.issubset(LIFECYCLE_STAGES)


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"lifecycleStage": "POST_SCALE_UP", "executionDetails": {"serviceArn": SERVICE_ARN}},
        {"lifecycleStage": "POST_SCALE_UP", "executionDetails": {"serviceArn": 42, "targetServiceRevisionArn": "r"}},
        {**PAYLOAD, "lifecycleStage": ""},
        {key: value for key, value in PAYLOAD.items() if key != "lifecycleStage"},
        "not even an object",
        at_stage(
            "POST_SCALE_UP",
            executionDetails={
                "serviceArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
                "targetServiceRevisionArn": "r",
            },
        ),
    ],
)
def test_a_payload_the_watchdog_cannot_read_succeeds_and_says_why(event: Any) -> None:
    answer = gate(state(incident(6))).answer(event)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, True)
    assert answer.reason


def test_ecs_unreachable_succeeds_as_trouble() -> None:
    answer = gate(state(incident(6)), revisions=Broken()).answer(PAYLOAD)
    assert (answer.response, answer.trouble, answer.service) == ({"hookStatus": "SUCCEEDED"}, True, SERVICE_KEY)
    assert "ConnectionError" in answer.reason


def test_state_table_unreachable_succeeds_as_trouble() -> None:
    answer = gate(None, store=Broken()).answer(PAYLOAD)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, True)


def test_rollback_check_failing_while_about_to_block_succeeds_as_trouble() -> None:
    class RollbackUnknown(FakeRevisions):
        def rolling_back(self, cluster: str, service: str) -> bool:
            raise PermissionError("ecs:ListServiceDeployments denied")

    answer = gate(state(incident(6)), RollbackUnknown()).answer(PAYLOAD)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, True)


def test_open_incident_of_another_revision_and_a_healthy_target_is_not_held() -> None:
    healthy = state(incident(5), revisions={td(6): RevisionHealth(failures_since_healthy=0, healthy_at=NOW)})
    assert revision_held_back(healthy, td(6)) is False
    assert revision_held_back(healthy, td(5)) is True


# PRE_SCALE_UP waits for the events function's preflight of the new deployment (flow/changes.py)
def _waiting_gate(store_state: ServiceState | None, mode: Mode = Mode.ENFORCE) -> LambdaHookGate:
    return LambdaHookGate(
        FakeRevisions(), FakeStore(store_state), mode=mode, clock=lambda: NOW, preflight_wait=timedelta(minutes=2)
    )


def _deploying(task_definition: str, *incidents: Any) -> ServiceState:
    found = state(*incidents)
    found.deployments["ecs-svc/1"] = DeploymentRecord(
        id="ecs-svc/1", task_definition=task_definition, status="IN_PROGRESS"
    )
    return found


def test_pre_scale_up_answers_in_progress_until_the_deployment_preflight_has_run():
    answer = _waiting_gate(state()).answer(at_stage("PRE_SCALE_UP"))
    assert answer.response["hookStatus"] == "IN_PROGRESS"
    assert "preflight has not run yet" in answer.reason


def test_pre_scale_up_fails_once_the_preflight_opened_an_incident_for_the_revision():
    answer = _waiting_gate(_deploying(td(6), incident(6))).answer(at_stage("PRE_SCALE_UP"))
    assert answer.response == {"hookStatus": "FAILED"}


def test_pre_scale_up_succeeds_once_the_preflight_ran_and_found_nothing():
    answer = _waiting_gate(_deploying(td(6))).answer(at_stage("PRE_SCALE_UP"))
    assert answer.response == {"hookStatus": "SUCCEEDED"}


def test_no_preflight_after_the_longest_wait_lets_the_deployment_continue():
    asked_before = {FIRST_ASKED_KEY: (NOW - timedelta(minutes=3)).isoformat()}
    answer = _waiting_gate(state()).answer(at_stage("PRE_SCALE_UP", hookDetails=asked_before))
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert "after the longest wait" in answer.reason


# Only enforce (the account's mode, lowered by the service's tag) may hold a deployment: FAILED rolls it back.


def test_in_dry_run_a_held_back_revision_succeeds_and_says_it_would_have_failed() -> None:
    answer = gate(state(incident(6)), mode=Mode.DRY_RUN).answer(PAYLOAD)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, False)
    assert answer.reason.startswith("dry-run: would answer FAILED: the target revision is held back")


def test_in_notify_mode_the_hook_succeeds_without_reading_anything() -> None:
    store, revisions = FakeStore(state(incident(6))), FakeRevisions()
    answer = gate(None, revisions, store, mode=Mode.NOTIFY).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert answer.reason.startswith("notify mode") and store.loads == [] and revisions.rollback_checks == 0


@pytest.mark.parametrize("tag", ["notify", "ignore", "NOTIFY ", "no-such-value"])
def test_a_service_tagged_down_is_never_held_in_an_enforce_account(tag: str) -> None:
    revisions = FakeRevisions(tags={"ecs-watchdog:action": tag})
    answer = gate(state(incident(6)), revisions).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"} and "does not judge it" in answer.reason


@pytest.mark.parametrize("tag", ["auto", "rollback", "scale-to-zero"])
def test_a_service_tagged_to_allow_actions_is_held_in_an_enforce_account(tag: str) -> None:
    revisions = FakeRevisions(tags={"ecs-watchdog:action": tag})
    assert gate(state(incident(6)), revisions).answer(PAYLOAD).response == {"hookStatus": "FAILED"}


@pytest.mark.parametrize("mode", [Mode.DRY_RUN, Mode.NOTIFY])
def test_below_enforce_pre_scale_up_never_waits_for_the_preflight(mode: Mode) -> None:
    answer = _waiting_gate(state(), mode=mode).answer(at_stage("PRE_SCALE_UP"))
    assert answer.response == {"hookStatus": "SUCCEEDED"}


def test_in_dry_run_an_undecided_revision_succeeds_and_says_it_would_have_asked_again() -> None:
    undecided = state(revisions={td(6): RevisionHealth(failures_since_healthy=2, last_failure_at=NOW)})
    answer = gate(undecided, mode=Mode.DRY_RUN).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert answer.reason.startswith("dry-run: would answer IN_PROGRESS")


def test_tags_unreadable_in_an_enforce_account_succeed_as_trouble() -> None:
    class TagsDenied(FakeRevisions):
        def service_tags(self, service_arn: str) -> dict[str, str]:
            raise PermissionError("ecs:ListTagsForResource denied")

    answer = gate(state(incident(6)), TagsDenied()).answer(PAYLOAD)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, True)


class Switch:
    def __init__(self, engaged: bool | None) -> None:
        self.state, self.reads = engaged, 0

    def engaged(self) -> bool:
        self.reads += 1
        if self.state is None:
            raise ConnectionError("ssm unreachable")
        return self.state


def _switched(switch: Switch, mode: Mode = Mode.ENFORCE) -> LambdaHookGate:
    return LambdaHookGate(
        FakeRevisions(), FakeStore(state(incident(6))), mode=mode, clock=lambda: NOW, kill_switch=switch
    )


@pytest.mark.parametrize("engaged", [True, None])  # engaged, or unreadable (counted as engaged)
def test_an_engaged_kill_switch_lowers_enforce_to_dry_run(engaged: bool | None) -> None:
    answer = _switched(Switch(engaged)).answer(PAYLOAD)
    assert (answer.response, answer.trouble) == ({"hookStatus": "SUCCEEDED"}, False)
    assert answer.reason.startswith("the kill switch is engaged, so dry-run: would answer FAILED")


def test_a_kill_switch_that_is_off_lets_enforce_fail_the_revision() -> None:
    assert _switched(Switch(False)).answer(PAYLOAD).response == {"hookStatus": "FAILED"}


def test_below_enforce_the_kill_switch_is_not_read() -> None:
    switch = Switch(True)
    _switched(switch, Mode.DRY_RUN).answer(PAYLOAD)
    assert switch.reads == 0
