"""The Lambda lifecycle hook function's decision, with a fake state store and fake ECS lookups.

Fail-open is the rule under test as much as the verdicts: anything the watchdog cannot do answers SUCCEEDED.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ecs_watchdog.gate.hooks import FIRST_ASKED_KEY
from ecs_watchdog.gate.lambda_hook import LambdaHookGate, target_has_open_incident
from ecs_watchdog.incidents.model import IncidentStatus, RevisionHealth, ServiceState
from tests.unit.containment_builders import NOW, SERVICE_ARN, incident, td

SERVICE_KEY = "123456789012/us-east-1/prod/api"
REVISION_ARN = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/api/0123"
PAYLOAD = {
    "serviceArn": SERVICE_ARN,
    "targetServiceRevisionArn": REVISION_ARN,
    "testTrafficWeights": {},
    "productionTrafficWeights": {REVISION_ARN: 0},
}


class FakeRevisions:
    def __init__(self, task_definition: str = td(6), *, rolling_back: bool = False) -> None:
        self.task_definition, self.is_rolling_back = task_definition, rolling_back
        self.rollback_checks = 0

    def task_definition_of(self, revision_arn: str) -> str:
        assert revision_arn == REVISION_ARN
        return self.task_definition

    def rolling_back(self, cluster: str, service: str) -> bool:
        assert (cluster, service) == ("prod", "api")
        self.rollback_checks += 1
        return self.is_rolling_back


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


def gate(store_state: ServiceState | None, revisions: Any = None, store: Any = None) -> LambdaHookGate:
    return LambdaHookGate(revisions or FakeRevisions(), store or FakeStore(store_state), clock=lambda: NOW)


def test_target_with_an_open_incident_fails_the_hook_so_ecs_rolls_back() -> None:
    answer = gate(state(incident(6))).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "FAILED"}
    assert (answer.service, answer.task_definition, answer.trouble) == (SERVICE_KEY, td(6), False)


def test_target_without_an_incident_succeeds_without_asking_about_rollbacks() -> None:
    revisions = FakeRevisions()
    answer = gate(state(incident(5)), revisions).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert revisions.rollback_checks == 0


def test_a_service_the_watchdog_never_saw_succeeds() -> None:
    assert gate(None).answer(PAYLOAD).response == {"hookStatus": "SUCCEEDED"}


@pytest.mark.parametrize("status", [IncidentStatus.RESOLVED, IncidentStatus.CONTAINED])
def test_an_incident_that_is_no_longer_open_does_not_block(status: IncidentStatus) -> None:
    assert gate(state(incident(6, status=status))).answer(PAYLOAD).response == {"hookStatus": "SUCCEEDED"}


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
    asked_before = {**PAYLOAD, "hookDetails": {FIRST_ASKED_KEY: (NOW - timedelta(minutes=15)).isoformat()}}
    assert gate(undecided).answer(asked_before).response == {"hookStatus": "SUCCEEDED"}


def test_during_a_rollback_the_hook_never_blocks_even_a_revision_with_an_open_incident() -> None:
    revisions = FakeRevisions(rolling_back=True)
    answer = gate(state(incident(6)), revisions).answer(PAYLOAD)
    assert answer.response == {"hookStatus": "SUCCEEDED"}
    assert revisions.rollback_checks == 1
    assert "rollback" in answer.reason


def test_a_stage_named_in_hook_details_that_is_not_a_traffic_shift_still_blocks_during_a_rollback() -> None:
    # ECS runs only traffic-shift hooks while rolling back; a stage the operator named otherwise is believed.
    named = {**PAYLOAD, "hookDetails": {"lifecycleStage": "POST_SCALE_UP"}}
    answer = gate(state(incident(6)), FakeRevisions(rolling_back=True)).answer(named)
    assert answer.response == {"hookStatus": "FAILED"}


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"serviceArn": SERVICE_ARN},
        {"serviceArn": 42, "targetServiceRevisionArn": REVISION_ARN},
        "not even an object",
        {**PAYLOAD, "serviceArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod"},
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


def test_open_incident_of_another_revision_and_a_healthy_target_is_no_incident() -> None:
    healthy = state(incident(5), revisions={td(6): RevisionHealth(failures_since_healthy=0, healthy_at=NOW)})
    assert target_has_open_incident(healthy, td(6)) is False
    assert target_has_open_incident(healthy, td(5)) is True
