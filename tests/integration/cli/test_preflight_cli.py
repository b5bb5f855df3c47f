"""`ecs-watchdog preflight` against moto's ThreadedMotoServer on 127.0.0.1 (AWS_ENDPOINT_URL), never AWS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_watchdog.cli import main
from tests.integration.cli.conftest import REGION
from tests.integration.diagnose_account import CLUSTER, SERVICE
from tests.unit.diagnose.task_definitions import ACCOUNT, healthy


def _preflight(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict]:
    status = main(["preflight", "--region", REGION, "--json", *arguments])
    return status, json.loads(capsys.readouterr().out)


def _file(tmp_path: Path, image_tag: str) -> str:
    definition = healthy()
    del definition["taskDefinitionArn"]
    definition["containerDefinitions"][0]["image"] = (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pairva-frontend:{image_tag}"
    )
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps(definition))
    return str(path)


def test_an_image_tag_never_pushed_fails_before_registering(account, tmp_path, capsys):
    status, report = _preflight(capsys, _file(tmp_path, "1.0.1"))
    assert status == 1
    assert report["failed"] == ["image"]
    image = next(c for c in report["checks"] if c["name"] == "image")
    assert "pairva-frontend:1.0.1 is not in the repository" in image["summary"]


def test_a_pushed_image_and_an_existing_log_group_pass(account, tmp_path, capsys):
    status, report = _preflight(capsys, _file(tmp_path, "1.0.0"))
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert status == 0
    assert statuses["image"] == "pass"
    assert statuses["log_group"] == "pass"
    # Without a service its target groups and subnets are unknown: said, never passed.
    assert statuses["subnets"] == statuses["health_check_port"] == "cannot_check"


def test_the_services_own_revision_is_checked_with_its_subnets(account, capsys):
    status, report = _preflight(capsys, "--cluster", CLUSTER, "--service", SERVICE)
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert status == 0
    assert report["task_definition"] == account["task_definition"]
    assert statuses["subnets"] == "pass"
    assert statuses["secrets"] == "pass"


def test_an_unknown_service_is_one_line_and_exit_2(account, capsys):
    status = main(["preflight", "--region", REGION, "--cluster", CLUSTER, "--service", "nope"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip() == f"ecs-watchdog preflight: ECS does not know service nope in cluster {CLUSTER}"
