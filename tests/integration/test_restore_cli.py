"""`ecs-watchdog restore` says in words what it did or would do; `--json` keeps the record for machines
(a dry run says `"dry_run": true`, a stand-down included); AWS errors are one line. On moto, in-process."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from moto.ecs.models import ecs_backends

from ecs_watchdog.cli import main
from ecs_watchdog.replay.sandbox import ACCOUNT, FAKE_CREDENTIALS

REGION = "us-east-1"
RESTORE = ["restore", "--cluster", "prod", "--region", REGION]


@pytest.fixture
def scaled_to_zero() -> Iterator[boto3.Session]:
    """prod/api scaled to zero by the watchdog (its tag says 2 before; a scalable target bounds it at 4),
    and prod/web that the watchdog never touched."""
    with mock.patch.dict(os.environ, FAKE_CREDENTIALS), mock_aws():
        session = boto3.Session(region_name=REGION)
        ecs = session.client("ecs")
        ecs.create_cluster(clusterName="prod")
        definition = ecs.register_task_definition(
            family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512}]
        )["taskDefinition"]["taskDefinitionArn"]
        for name, count in (("api", 0), ("web", 2)):
            ecs.create_service(cluster="prod", serviceName=name, taskDefinition=definition, desiredCount=count)
            # Rolled out long ago (moto leaves a new service's deployment IN_PROGRESS for ever).
            ecs_backends[ACCOUNT][REGION]._get_service("prod", name).deployments[0]["rolloutState"] = "COMPLETED"
        api = ecs.describe_services(cluster="prod", services=["api"])["services"][0]["serviceArn"]
        ecs.tag_resource(resourceArn=api, tags=[{"key": "ecs-watchdog:previous-desired-count", "value": "2"}])
        session.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId="service/prod/api",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=0,
            MaxCapacity=4,
        )
        yield session


def desired(session: boto3.Session, service: str) -> int:
    return session.client("ecs").describe_services(cluster="prod", services=[service])["services"][0]["desiredCount"]


def test_a_dry_run_says_what_it_would_do_in_words_and_calls_nothing(scaled_to_zero, capsys):
    assert main([*RESTORE, "--service", "api", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "Dry run: would put back the desired count the watchdog's scale to zero recorded on prod/api"
    )
    assert out[0].endswith("no call was made.")
    assert any(line.startswith("  would call: ecs UpdateService(") and '"desiredCount": 2' in line for line in out)
    assert desired(scaled_to_zero, "api") == 0


def test_a_restore_says_what_it_did(scaled_to_zero, capsys):
    assert main([*RESTORE, "--service", "api"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Restored prod/api: put back the desired count")
    assert desired(scaled_to_zero, "api") == 2


def test_a_dry_run_stand_down_does_not_say_dry_run_false(scaled_to_zero, capsys):
    assert main([*RESTORE, "--service", "web", "--dry-run", "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["kind"] == "stand_down" and record["dry_run"] is True
    assert main([*RESTORE, "--service", "web", "--dry-run"]) == 1
    assert capsys.readouterr().out.startswith("Dry run: nothing would be done on prod/web: no record of the previous")


def test_aws_errors_are_one_line(scaled_to_zero, capsys):
    assert main(["restore", "--cluster", "nowhere", "--service", "api", "--region", REGION]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("ecs-watchdog restore: ")
    assert "Traceback" not in captured.err
