"""Failed ECS API calls from real CloudTrail records → findings, deduplicated per family/service."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from ecs_watchdog.api_errors.findings import (
    ApiErrorState,
    api_error_finding,
    record_api_error,
)
from ecs_watchdog.events import ApiCallErrorEvent, MalformedEvent, parse_envelope
from tests.conftest import load_event


def _event(name: str, **detail: Any) -> ApiCallErrorEvent:
    raw = copy.deepcopy(load_event(name))
    raw["detail"].update(detail)
    event = parse_envelope(raw)
    assert isinstance(event, ApiCallErrorEvent)
    return event


def test_seed_001_rejected_registration_names_the_unresolved_account_id_in_the_execution_role():
    finding = api_error_finding(_event("cloudtrail_register_task_definition_error"))
    assert (finding.operation, finding.error_code) == ("RegisterTaskDefinition", "ClientException")
    assert (finding.subject, finding.subject_kind, finding.category) == ("backend", "family", "task_definition")
    assert finding.key == "123456789012/us-east-1/backend"
    assert [(v.path, v.value) for v in finding.offending] == [
        ("executionRoleArn", "arn:aws:iam::${AWS_ACCOUNT_ID}:role/ecsTaskExecutionRole")
    ]
    assert "execution role ARN to support log driver awslogs" in finding.message
    assert "${AWS_ACCOUNT_ID}" in finding.next_steps[0] and "executionRoleArn" in finding.next_steps[0]
    assert any("executionRoleArn` to an existing role" in s for s in finding.next_steps)
    assert finding.caller == "arn:aws:sts::123456789012:assumed-role/github-deploy/deploy-pipeline"


def test_update_service_with_a_blank_task_definition_points_back_at_the_failed_registration():
    finding = api_error_finding(_event("cloudtrail_update_service_error"))
    assert (finding.subject, finding.subject_kind, finding.cluster) == ("backend", "service", "production")
    assert finding.category == "service_configuration"
    assert finding.ref.label == "production/backend"
    assert finding.offending == ()
    assert any("RegisterTaskDefinition" in s for s in finding.next_steps)


def test_access_denied_run_task_is_a_permissions_finding_on_the_task_family():
    finding = api_error_finding(_event("cloudtrail_run_task_access_denied"))
    assert (finding.subject, finding.subject_kind, finding.category) == ("migrate", "family", "permissions")
    assert any("migrations-runner" in s for s in finding.next_steps)


@pytest.mark.parametrize("value", ["<ACCOUNT_ID>", "REPLACE_ME", "changeme", "$(aws sts get-caller-identity)"])
def test_other_placeholders_are_offending_values(value):
    raw = copy.deepcopy(load_event("cloudtrail_register_task_definition_error"))
    raw["detail"]["requestParameters"]["containerDefinitions"][0]["image"] = f"repo/{value}:1"
    finding = api_error_finding(parse_envelope(raw))  # type: ignore[arg-type]
    assert "containerDefinitions[0].image" in [v.path for v in finding.offending]


def test_an_api_call_record_without_an_error_code_is_malformed():
    raw = copy.deepcopy(load_event("cloudtrail_register_task_definition_error"))
    del raw["detail"]["errorCode"]
    with pytest.raises(MalformedEvent, match="errorCode"):
        parse_envelope(raw)


def test_repeats_within_the_window_fold_into_one_counted_finding():
    first = api_error_finding(_event("cloudtrail_register_task_definition_error"))
    decision = record_api_error(ApiErrorState(subject=first.key), first)
    assert decision.transition is not None and decision.count == 1
    assert decision.transition.incident.category == "task_definition"
    assert "executionRoleArn = arn:aws:iam::${AWS_ACCOUNT_ID}" in "\n".join(decision.transition.explanation.evidence)
    state = decision.state
    for n in range(2, 5):
        again = api_error_finding(
            _event(
                "cloudtrail_register_task_definition_error",
                eventID=f"retry-{n}",
                eventTime=(first.at + timedelta(minutes=n)).isoformat(),
            )
        )
        decision = record_api_error(state, again)
        assert decision.transition is None and decision.changed
        state = decision.state
    assert decision.count == 4
    assert len(state.outbox) == 1  # only the first was announced


def test_the_same_cloudtrail_event_redelivered_changes_nothing():
    finding = api_error_finding(_event("cloudtrail_register_task_definition_error"))
    state = record_api_error(ApiErrorState(subject=finding.key), finding).state
    again = record_api_error(state, finding)
    assert not again.changed and again.transition is None and again.state is state


def test_after_a_quiet_window_the_same_error_is_a_new_finding():
    first = api_error_finding(_event("cloudtrail_register_task_definition_error"))
    state = record_api_error(ApiErrorState(subject=first.key), first).state
    later = api_error_finding(
        _event(
            "cloudtrail_register_task_definition_error",
            eventID="next-day",
            eventTime=(first.at + timedelta(hours=3)).isoformat(),
        )
    )
    decision = record_api_error(state, later, window=timedelta(hours=1))
    assert decision.transition is not None
    assert decision.transition.id != state.outbox[0].id


def test_a_different_error_on_the_same_family_is_its_own_finding():
    first = api_error_finding(_event("cloudtrail_register_task_definition_error"))
    state = record_api_error(ApiErrorState(subject=first.key), first).state
    other = api_error_finding(
        _event("cloudtrail_register_task_definition_error", eventID="other", errorCode="InvalidParameterException")
    )
    assert record_api_error(state, other).transition is not None
