"""The events handler's cold start loads what a cold invocation needs and nothing else (issue 23).

Deterministic on any machine: which modules a fresh interpreter holds after importing the handler and
building its intake, not how long that took (`ecs-watchdog bench` measures the time).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3

from ecs_watchdog.wiring.on_first_use import lazy_client

# Each loads only on the path that uses it: a configured Slack or PagerDuty, the first probe, the first
# deployment's preflight, the first failed API call (CloudTrail), the first PAUSE hook event (the gate).
# The batch utility is not used at all (flow/sqs_batch.py answers the batch).
LOADED_ON_USE = (
    "slack_sdk",
    "pagerduty",
    "httpx2",
    "aws_lambda_powertools.utilities.parameters",
    "ecs_watchdog.aws.slack",
    "ecs_watchdog.aws.slack_bot",
    "ecs_watchdog.aws.pagerduty",
    "ecs_watchdog.aws.diagnosis",
    "ecs_watchdog.aws.probes",
    "ecs_watchdog.aws.preflight",
    "ecs_watchdog.diagnose.preflight",
    "ecs_watchdog.diagnose.network",
    "ecs_watchdog.api_errors.step",
    "ecs_watchdog.api_errors.findings",
    "ecs_watchdog.gate.pause",
    "ecs_watchdog.gate.answers",
    "ecs_watchdog.aws.hook_answers",
)
NEVER = ("asyncio", "aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.data_classes")

COLD_START = """
import json, sys
import ecs_watchdog.handlers.ecs_events as handler
imported = sorted(sys.modules)
handler.intake()
print(json.dumps({"imported": imported, "initialized": sorted(sys.modules)}))
"""


def cold_start() -> dict[str, set[str]]:
    env = {
        **os.environ,
        "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:ecs-watchdog-alerts",
        "STATE_TABLE_NAME": "ecs-watchdog-state",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
    }
    for unset in ("SLACK_SECRET_NAME", "SLACK_BOT_SECRET_NAME", "PAGERDUTY_SECRET_NAME"):
        env.pop(unset, None)
    done = subprocess.run([sys.executable, "-c", COLD_START], env=env, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {phase: set(modules) for phase, modules in found.items()}


def test_the_events_handler_cold_start_leaves_unused_channels_probes_and_the_batch_utility_unloaded() -> None:
    modules = cold_start()
    assert "ecs_watchdog.flow.pipeline" in modules["imported"]  # what a cold invocation needs is there
    for phase in ("imported", "initialized"):
        loaded = {m for m in LOADED_ON_USE + NEVER if m in modules[phase]}
        assert loaded == set(), f"{phase}: {sorted(loaded)}"


def test_a_lazy_client_is_built_on_its_first_call_and_only_once() -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    built: list[str] = []
    session.events.register("creating-client-class", lambda class_attributes, **_: built.append("sqs"))
    client = lazy_client(session, "sqs")
    assert built == []  # wiring it costs nothing
    assert client.meta.region_name == "us-east-1" and client.can_paginate("list_queues")
    assert client.exceptions.QueueDoesNotExist.__name__ == "QueueDoesNotExist"
    assert built == ["sqs"]
