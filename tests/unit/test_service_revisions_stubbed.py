"""The lifecycle hook's ECS reads (moto 5.2.5 has neither), against a real botocore client with Stubber.

botocore does not check enum values client-side, so every stub asserts `expected_params`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from ecs_watchdog.aws.service_revisions import RevisionNotFound, ServiceRevisions
from tests.unit.containment_builders import CLUSTER, SERVICE, SERVICE_ARN, td

REVISION_ARN = f"arn:aws:ecs:us-east-1:123456789012:service-revision/{CLUSTER}/{SERVICE}/0123"


@pytest.fixture
def ecs() -> Iterator[tuple[ServiceRevisions, Stubber]]:
    client = boto3.client("ecs", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ServiceRevisions(client), stubber
        stubber.assert_no_pending_responses()


def _revision(arn: str, task_definition: str) -> dict[str, object]:
    return {
        "serviceRevisionArn": arn,
        "serviceArn": SERVICE_ARN,
        "taskDefinition": task_definition,
        "createdAt": datetime(2026, 3, 1, tzinfo=UTC),
    }


def test_a_service_revision_maps_to_its_task_definition_and_is_asked_once(ecs) -> None:
    revisions, stubber = ecs
    stubber.add_response(
        "describe_service_revisions",
        {"serviceRevisions": [_revision(REVISION_ARN, td(7))], "failures": []},
        {"serviceRevisionArns": [REVISION_ARN]},
    )
    assert revisions.task_definition_of(REVISION_ARN) == td(7)
    assert revisions.task_definition_of(REVISION_ARN) == td(7)  # a revision never changes: no second call


def test_a_revision_ecs_reports_as_a_failure_is_not_found_with_the_reason(ecs) -> None:
    revisions, stubber = ecs
    stubber.add_response(
        "describe_service_revisions",
        {"serviceRevisions": [], "failures": [{"arn": REVISION_ARN, "reason": "MISSING", "detail": "gone"}]},
        {"serviceRevisionArns": [REVISION_ARN]},
    )
    with pytest.raises(RevisionNotFound, match="MISSING: gone"):
        revisions.task_definition_of(REVISION_ARN)


def test_an_api_error_propagates_for_the_gate_to_fail_open(ecs) -> None:
    revisions, stubber = ecs
    stubber.add_client_error(
        "describe_service_revisions",
        service_error_code="AccessDeniedException",
        expected_params={"serviceRevisionArns": [REVISION_ARN]},
    )
    with pytest.raises(Exception, match="AccessDenied"):
        revisions.task_definition_of(REVISION_ARN)


@pytest.mark.parametrize(("listed", "expected"), [(1, True), (0, False)])
def test_rolling_back_asks_for_deployments_being_rolled_back(ecs, listed: int, expected: bool) -> None:
    revisions, stubber = ecs
    brief = {
        "serviceDeploymentArn": f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/{SERVICE}/x",
        "serviceArn": SERVICE_ARN,
        "status": "ROLLBACK_IN_PROGRESS",
    }
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": [brief] * listed},
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "status": ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"],
            "maxResults": 1,
        },
    )
    assert revisions.rolling_back(CLUSTER, SERVICE) is expected


def test_the_services_tags_are_read_by_its_arn_on_every_call(ecs) -> None:
    revisions, stubber = ecs
    for value in ("auto", "notify"):  # a tag changed between two invocations counts at once
        stubber.add_response(
            "list_tags_for_resource",
            {"tags": [{"key": "ecs-watchdog:action", "value": value}, {"key": "team"}]},
            expected_params={"resourceArn": SERVICE_ARN},
        )
    assert revisions.service_tags(SERVICE_ARN) == {"ecs-watchdog:action": "auto", "team": ""}
    assert revisions.service_tags(SERVICE_ARN)["ecs-watchdog:action"] == "notify"
