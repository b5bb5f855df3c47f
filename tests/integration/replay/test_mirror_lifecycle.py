"""The mirror answers the deployment APIs moto lacks from the model, and ContinueServiceDeployment moves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.mirror import Mirror, new_session
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.scheduler import HookEvent, Scheduler, policy_configs

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "gate-canary-healthy.json"


def paused(dry_run: bool) -> tuple[Scheduler, Mirror, Any, dict[str, Any]]:
    """Under mock_aws: the healthy canary paused at its hook, and the hook's envelope."""
    scenario = load_scenario(SCENARIO)
    scheduler = Scheduler(scenario, policy_configs(scenario, "watchdog"))
    envelopes = EnvelopeFactory(
        seed=scenario.seed, region=scenario.region, cluster=scenario.cluster, start=scenario.start_time
    )
    mirror = Mirror(scenario, scheduler, dry_run=dry_run)
    mirror.build()
    session = new_session(scenario.region)
    mirror.install(session)
    while True:
        hooks = [e for e in scheduler.step() if isinstance(e, HookEvent)]
        if hooks:
            return scheduler, mirror, session.client("ecs"), envelopes.envelope(hooks[0])


def test_hook_envelope_names_the_deployment_and_continue_completes_it() -> None:
    with mock_aws():
        scheduler, mirror, ecs, envelope = paused(dry_run=False)
        detail = envelope["detail"]
        assert envelope["detail-type"] == "ECS Hook State Change"
        assert envelope["resources"] == [detail["serviceDeploymentArn"]]
        assert detail["eventName"] == "HOOK_AWAITING_ACTION" and detail["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
        listed = ecs.list_service_deployments(cluster="shop", service="checkout", status=["IN_PROGRESS"])
        assert [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]] == [detail["serviceDeploymentArn"]]
        described = ecs.describe_service_deployments(serviceDeploymentArns=[detail["serviceDeploymentArn"]])
        deployment = described["serviceDeployments"][0]
        assert deployment["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
        assert [(h["hookId"], h["status"]) for h in deployment["lifecycleHookDetails"]] == [
            (detail["hookId"], "AWAITING_ACTION")
        ]
        assert deployment["deploymentConfiguration"]["strategy"] == "CANARY"
        ecs.continue_service_deployment(
            serviceDeploymentArn=detail["serviceDeploymentArn"], hookId=detail["hookId"], action="CONTINUE"
        )
        with pytest.raises(ClientError) as again:
            ecs.continue_service_deployment(
                serviceDeploymentArn=detail["serviceDeploymentArn"], hookId=detail["hookId"], action="CONTINUE"
            )
        assert again.value.response["Error"]["Code"] == "InvalidParameterException"
        while scheduler.next_time() is not None:
            scheduler.step()
        assert scheduler.service("checkout").primary_revision == 42
        assert [a.action for a in mirror.actions] == ["continue_service_deployment", "continue_service_deployment"]


def test_dry_run_leaves_the_hook_awaiting_and_records_the_intent() -> None:
    with mock_aws():
        scheduler, mirror, ecs, envelope = paused(dry_run=True)
        detail = envelope["detail"]
        with pytest.raises(ClientError) as refused:
            ecs.continue_service_deployment(
                serviceDeploymentArn=detail["serviceDeploymentArn"], hookId=detail["hookId"], action="ROLLBACK"
            )
        assert refused.value.response["Error"]["Code"] == "DryRunOperation"
        assert scheduler.service("checkout").deployments[0].hooks[0].status == "AWAITING_ACTION"
        assert [(a.action, a.dry_run) for a in mirror.actions] == [("continue_service_deployment", True)]
