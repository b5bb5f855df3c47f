"""Typed ECS events: the AWS sample events parse; malformed input fails with a message naming the field."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.events import (
    DeploymentStateChangeEvent,
    MalformedEvent,
    ServiceActionEvent,
    TaskStateChangeEvent,
    parse_envelope,
    parse_stop,
    stop_from_event,
)
from tests.conftest import load_event


def test_stopped_task_sample_becomes_a_stop_with_service_and_cluster():
    event = parse_envelope(load_event("task_state_change_stopped"))
    assert isinstance(event, TaskStateChangeEvent)
    stop = stop_from_event(event)
    assert (stop.service, stop.cluster, stop.task_definition) == ("Webapp", "Features", "webapp:15")
    assert (stop.stop_code, stop.stopped_reason, stop.version) == ("UserInitiated", "Task stopped by user", 7)
    assert stop.containers[0].image == "0123456789.dkr.ecr.eu-west-1.amazonaws.com/webapp:d1a3f22"
    assert stop.event_id == "d005c784-98bd-b9c9-043f-c924cd120f54"


def test_running_task_sample_parses():
    event = parse_envelope(load_event("task_state_change_running"))
    assert isinstance(event, TaskStateChangeEvent) and event.detail.lastStatus == "RUNNING"


@pytest.mark.parametrize(
    "name",
    [
        "deployment_in_progress",
        "deployment_in_progress_rollback",
        "deployment_completed",
        "deployment_failed",
    ],
)
def test_deployment_samples_name_the_service_in_resources(name):
    event = parse_envelope(load_event(name))
    assert isinstance(event, DeploymentStateChangeEvent)
    assert event.service_arn.startswith("arn:aws:ecs:") and event.detail.deploymentId


@pytest.mark.parametrize(
    "name",
    [
        "service_action_steady_state",
        "service_action_task_start_impaired",
        "service_action_task_placement_failure_ec2_cpu",
        "service_action_capacity_provider_steady_state",
    ],
)
def test_service_action_samples_parse(name):
    event = parse_envelope(load_event(name))
    assert isinstance(event, ServiceActionEvent) and event.detail.eventName


def test_json_text_is_accepted_as_well_as_a_dict():
    raw = load_event("task_state_change_stopped")
    assert parse_envelope(json.dumps(raw)) == parse_envelope(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": ', "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}, "source"),
        ({"source": "aws.ecs", "detail-type": "ECS Container Instance State Change"}, "unsupported"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(raw, message):
    with pytest.raises(MalformedEvent, match=message):
        parse_envelope(raw)


def test_a_task_event_without_task_arn_names_the_missing_field():
    raw = load_event("task_state_change_stopped")
    del raw["detail"]["taskArn"]
    with pytest.raises(MalformedEvent, match=r"detail\.taskArn: Field required"):
        parse_envelope(raw)


def test_the_spot_sample_lacks_envelope_fields_but_its_detail_still_classifies():
    raw = load_event("task_state_change_spot_interruption")
    with pytest.raises(MalformedEvent, match="time"):
        parse_envelope(raw)  # the doc sample omits `time` and `region`, which EventBridge always sends
    assert parse_stop(raw["detail"]).stop_code == "TerminationNotice"


def test_parse_stop_rejects_other_event_types():
    with pytest.raises(MalformedEvent, match="expected 'ECS Task State Change'"):
        parse_stop(load_event("deployment_failed"))
