"""AWS_LAMBDA lifecycle hooks in the scheduler model and the runner (no AWS): ECS invokes the hook function
as the deployment reaches the stage, and goes on as its hookStatus says (ECS developer guide, "Lambda hooks
for Amazon ECS service deployments")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.scheduler import LambdaHookInvocation, Scheduler, policy_configs

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
NAME = "gate-lambda-image-never-pushed"
SERVICE = "cart"


def scheduler() -> Scheduler:
    scenario = load_scenario(SCENARIOS / f"{NAME}.json")
    return Scheduler(scenario, policy_configs(scenario, "watchdog"))


def first_invocation(model: Scheduler) -> LambdaHookInvocation:
    while model.next_time() is not None:
        model.step()
        invocations = model.drain_invocations()
        if invocations:
            (invocation,) = invocations
            return invocation
    raise AssertionError("the hook function was never invoked")


def test_ecs_invokes_the_hook_function_at_pre_scale_up_before_any_task_of_the_new_revision_starts() -> None:
    model = scheduler()
    invocation = first_invocation(model)
    assert (invocation.stage, invocation.revision, invocation.source_revision) == ("PRE_SCALE_UP", 8, 7)
    assert invocation.at == 5 * 60.0
    green = model.service(SERVICE).deployments[0]
    assert green.lifecycle_stage == "PRE_SCALE_UP" and green.pending_count == green.running_count == 0
    assert [(h.status, h.target_type) for h in green.hooks] == [("IN_PROGRESS", "AWS_LAMBDA")]


def test_failed_rolls_the_deployment_back_before_any_task_of_it_failed() -> None:
    model = scheduler()
    invocation = first_invocation(model)
    assert model.answer_lambda_hook(invocation, {"hookStatus": "FAILED"}) == "FAILED"
    model.run()
    assert model.failed_tasks(SERVICE) == 0
    contained = model.containment(SERVICE)
    assert contained is not None and contained.failed_before == 0
    assert contained.by == "Lambda hook FAILED at PRE_SCALE_UP: rollback"
    assert model.service(SERVICE).primary_revision == 7


@pytest.mark.parametrize("answer", [{"hookStatus": "MAYBE"}, {}, None, "SUCCEEDED"])
def test_an_answer_that_is_not_one_rolls_back_as_ecs_does(answer: Any) -> None:
    model = scheduler()
    assert model.answer_lambda_hook(first_invocation(model), answer) == "error"
    assert model.service(SERVICE).primary_revision == 7


def test_in_progress_invokes_the_function_again_after_its_callback_delay_with_its_hook_details() -> None:
    model = scheduler()
    invocation = first_invocation(model)
    asked = {"hookStatus": "IN_PROGRESS", "callBackDelay": 45, "hookDetails": {"firstAsked": "then"}}
    assert model.answer_lambda_hook(invocation, asked) == "IN_PROGRESS"
    again = first_invocation(model)
    assert again.at == invocation.at + 45 and again.hook_id == invocation.hook_id
    assert dict(again.hook_details) == {"firstAsked": "then"}
    assert model.service(SERVICE).deployments[0].pending_count == 0  # held at PRE_SCALE_UP meanwhile


def test_succeeded_lets_the_deployment_go_on_and_its_tasks_fail() -> None:
    model = scheduler()
    model.answer_lambda_hook(first_invocation(model), {"hookStatus": "SUCCEEDED"})
    model.run()
    assert model.failed_tasks(SERVICE) > 10  # no breaker, no watchdog: the image is still missing


def test_a_hook_that_keeps_answering_in_progress_takes_its_timeout_action() -> None:
    model = scheduler()
    invocation = first_invocation(model)
    while invocation.at < (5 + 59) * 60.0:  # the hook times out at minute 65
        model.answer_lambda_hook(invocation, {"hookStatus": "IN_PROGRESS"})
        invocation = first_invocation(model)
    model.run()
    contained = model.containment(SERVICE)
    assert contained is not None and contained.by == "lifecycle hook timeout at PRE_SCALE_UP: rollback"
    assert model.failed_tasks(SERVICE) == 0


def test_the_payload_has_the_documented_shape() -> None:
    model = scheduler()
    invocation = first_invocation(model)
    scenario = model.scenario
    factory = EnvelopeFactory(seed=1, region=scenario.region, cluster=scenario.cluster, start=scenario.start_time)
    payload = factory.lambda_hook_payload(invocation)
    assert set(payload) == {"executionId", "lifecycleStage", "resourceArn", "executionDetails", "hookDetails"}
    details = payload["executionDetails"]
    assert details["serviceArn"].endswith(":service/shop/cart")
    assert details["targetServiceRevisionArn"].endswith("/shop/cart/0000000000000000008")
    assert payload["resourceArn"].startswith("arn:aws:ecs:us-east-1:123456789012:service-deployment/shop/cart/")
    assert details["productionTrafficWeights"] == {
        details["targetServiceRevisionArn"].replace("0000000000000000008", "0000000000000000007"): 100,
        details["targetServiceRevisionArn"]: 0,
    }


def test_without_a_watchdog_there_is_no_hook_function_and_the_deployment_goes_on() -> None:
    result = runner.run_scenario(load_scenario(SCENARIOS / f"{NAME}.json"), "none")
    cart = result["services"][SERVICE]
    assert cart["failed_tasks_total"] > 10 and cart["actions"] == []
    assert cart["event_to_action_seconds"] is None


def test_failed_on_a_services_first_deployment_fails_it_and_launches_nothing() -> None:
    scenario = load_scenario(SCENARIOS / f"{NAME}.json")
    (cart,) = scenario.services
    first = replace(scenario, services=(replace(cart, running_revision=None),))
    model = Scheduler(first, policy_configs(first, "watchdog"))
    invocation = first_invocation(model)
    assert invocation.source_revision is None
    assert model.answer_lambda_hook(invocation, {"hookStatus": "FAILED"}) == "FAILED"
    model.run()
    assert model.failed_tasks(SERVICE) == 0 and model.service(SERVICE).deployments[0].rollout_state == "FAILED"
    contained = model.containment(SERVICE)
    assert contained is not None and contained.by.startswith("Lambda hook FAILED at PRE_SCALE_UP")
