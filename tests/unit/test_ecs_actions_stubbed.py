"""The service-deployment calls moto 5.2.5 lacks, against a real botocore ECS client with Stubber.

botocore does not check enum values client-side, so every stub asserts `expected_params`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.contain.models import ApiCall, CallRefused
from tests.unit.containment_builders import CLUSTER, DEPLOYMENT_ARN, SERVICE, SERVICE_ARN

ARN_PREFIX = f"arn:aws:ecs:us-east-1:123456789012:service-deployment/{CLUSTER}/{SERVICE}/"


@pytest.fixture
def ecs() -> Iterator[tuple[EcsActions, Stubber]]:
    client = boto3.client("ecs", region_name="us-east-1")
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield EcsActions(client, autoscaling), stubber
        stubber.assert_no_pending_responses()


def brief(n: int) -> dict[str, Any]:
    return {
        "serviceDeploymentArn": f"{ARN_PREFIX}{n}",
        "serviceArn": SERVICE_ARN,
        "status": "IN_PROGRESS",
        "createdAt": datetime(2026, 3, 1, tzinfo=UTC),
    }


def test_list_service_deployments_follows_next_token(ecs: tuple[EcsActions, Stubber]) -> None:
    actions, stubber = ecs
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": [brief(1)], "nextToken": "page-2"},
        {"cluster": CLUSTER, "service": SERVICE, "status": ["IN_PROGRESS"]},
    )
    stubber.add_response(
        "list_service_deployments",
        {"serviceDeployments": [brief(2)]},
        {"cluster": CLUSTER, "service": SERVICE, "status": ["IN_PROGRESS"], "nextToken": "page-2"},
    )
    briefs = actions.list_service_deployments(CLUSTER, SERVICE, status=["IN_PROGRESS"])
    assert [b["serviceDeploymentArn"] for b in briefs] == [f"{ARN_PREFIX}1", f"{ARN_PREFIX}2"]


def test_describe_service_deployments_sends_at_most_twenty_arns_per_call(ecs: tuple[EcsActions, Stubber]) -> None:
    actions, stubber = ecs
    arns = [f"{ARN_PREFIX}{n}" for n in range(45)]
    for chunk in (arns[:20], arns[20:40], arns[40:]):
        stubber.add_response(
            "describe_service_deployments",
            {
                "serviceDeployments": [{"serviceDeploymentArn": a, "status": "SUCCESSFUL"} for a in chunk],
                "failures": [],
            },
            {"serviceDeploymentArns": chunk},
        )
    described = actions.describe_service_deployments(arns)
    assert [d["serviceDeploymentArn"] for d in described] == arns


def test_stop_service_deployment_sends_rollback(ecs: tuple[EcsActions, Stubber]) -> None:
    actions, stubber = ecs
    stubber.add_response(
        "stop_service_deployment",
        {"serviceDeploymentArn": DEPLOYMENT_ARN},
        {"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"},
    )
    call = actions.stop_service_deployment(DEPLOYMENT_ARN)
    assert call == ApiCall(
        service="ecs",
        operation="StopServiceDeployment",
        params={"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"},
    )


@pytest.mark.parametrize("code", ["ConflictException", "UnsupportedFeatureException"])
def test_stop_refusals_become_a_typed_refusal(ecs: tuple[EcsActions, Stubber], code: str) -> None:
    actions, stubber = ecs
    stubber.add_client_error(
        "stop_service_deployment",
        service_error_code=code,
        service_message="the deployment cannot be stopped",
        expected_params={"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"},
    )
    with pytest.raises(CallRefused) as refused:
        actions.stop_service_deployment(DEPLOYMENT_ARN)
    assert refused.value.code == code


def test_other_errors_are_not_refusals(ecs: tuple[EcsActions, Stubber]) -> None:
    actions, stubber = ecs
    stubber.add_client_error("stop_service_deployment", service_error_code="AccessDeniedException")
    with pytest.raises(Exception) as raised:
        actions.stop_service_deployment(DEPLOYMENT_ARN)
    assert not isinstance(raised.value, CallRefused)


@pytest.mark.parametrize("action", ["CONTINUE", "ROLLBACK"])
def test_continue_service_deployment_answers_a_hook(ecs: tuple[EcsActions, Stubber], action: str) -> None:
    actions, stubber = ecs
    stubber.add_response(
        "continue_service_deployment",
        {"serviceDeploymentArn": DEPLOYMENT_ARN},
        {"serviceDeploymentArn": DEPLOYMENT_ARN, "hookId": "hook-7", "action": action},
    )
    actions.continue_service_deployment(DEPLOYMENT_ARN, "hook-7", action)


def test_continue_rejects_an_action_ecs_does_not_take(ecs: tuple[EcsActions, Stubber]) -> None:
    actions, _ = ecs
    with pytest.raises(ValueError, match="CONTINUE or ROLLBACK"):
        actions.continue_service_deployment(DEPLOYMENT_ARN, "hook-7", "ABORT")


def test_dry_run_adapter_returns_the_call_and_sends_nothing() -> None:
    client = boto3.client("ecs", region_name="us-east-1")
    with Stubber(client) as stubber:  # no response queued: any call would raise
        actions = EcsActions(client, boto3.client("application-autoscaling", region_name="us-east-1"), dry_run=True)
        call = actions.stop_service_deployment(DEPLOYMENT_ARN)
        stubber.assert_no_pending_responses()
    assert call.params == {"serviceDeploymentArn": DEPLOYMENT_ARN, "stopType": "ROLLBACK"}
