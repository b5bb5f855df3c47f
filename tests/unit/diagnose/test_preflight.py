"""Preflight verdicts (pure) and the offline `ecs-watchdog preflight` a CI step runs before registering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecs_watchdog.cli import main
from ecs_watchdog.diagnose.model import failed, passed
from ecs_watchdog.diagnose.preflight import (
    health_check_port_check,
    image_check,
    log_group_check,
    offline_checks,
)
from ecs_watchdog.diagnose.references import awslogs_configurations
from tests.unit.diagnose.task_definitions import healthy, seed_001_backend_template

TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/frontend/0123456789abcdef"


def _statuses(definition: dict) -> dict[str, str]:
    return {c.name: c.status for c in offline_checks(definition)}


def test_a_healthy_revision_passes_every_offline_check():
    assert _statuses(healthy()) == {"placeholders": "pass", "execution_role": "pass", "fargate_size": "pass"}


def test_seed_001_account_id_placeholder_fails_offline():
    checks = {c.name: c for c in offline_checks(seed_001_backend_template())}
    assert checks["placeholders"].status == "fail"
    assert "${AWS_ACCOUNT_ID}" in checks["placeholders"].summary


def test_awslogs_on_fargate_without_an_execution_role_fails():
    definition = healthy()
    del definition["executionRoleArn"]
    checks = {c.name: c for c in offline_checks(definition)}
    assert checks["execution_role"].status == "fail"
    assert any("awslogs" in line for line in checks["execution_role"].evidence)


def test_a_fargate_size_that_does_not_exist_fails():
    definition = healthy()
    definition["memory"] = "512"  # cpu 512 takes 1-4 GB
    assert _statuses(definition)["fargate_size"] == "fail"


def test_a_missing_log_group_without_create_group_fails():
    check = log_group_check(awslogs_configurations(healthy()), {"/ecs/pairva-frontend": False}, {})
    assert check.status == "fail"
    assert "does not exist" in check.summary


def _create_group(definition: dict) -> dict:
    definition["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-create-group"] = "true"
    return definition


def test_create_group_passes_only_when_the_execution_role_may_create_it():
    configurations = awslogs_configurations(_create_group(healthy()))
    missing = {"/ecs/pairva-frontend": False}
    assert log_group_check(configurations, missing, {"/ecs/pairva-frontend": "allowed"}).status == "pass"
    denied = log_group_check(configurations, missing, {"/ecs/pairva-frontend": "implicitDeny"})
    assert denied.status == "fail"
    assert "logs:CreateLogGroup (implicitDeny)" in denied.summary


def _service(port: int = 3000) -> dict:
    return {"loadBalancers": [{"targetGroupArn": TARGET_GROUP, "containerName": "frontend", "containerPort": port}]}


def _group(health_check_port: str) -> dict:
    return {TARGET_GROUP: {"TargetGroupName": "frontend", "HealthCheckPort": health_check_port}}


def test_a_health_check_on_a_port_the_container_does_not_map_fails():
    check = health_check_port_check(_service(), healthy(), _group("8080"))
    assert check.status == "fail"
    assert "port 8080" in check.summary


def test_a_health_check_on_the_traffic_port_passes():
    assert health_check_port_check(_service(), healthy(), _group("traffic-port")).status == "pass"


def test_the_service_port_missing_from_the_new_revision_fails():
    assert health_check_port_check(_service(port=8000), healthy(), _group("traffic-port")).status == "fail"


def test_an_image_outside_ecr_cannot_be_checked():
    definition = healthy()
    definition["containerDefinitions"][0]["image"] = "nginx:1.27"
    check = image_check(definition, passed("image", "every ECR image exists"))
    assert check.status == "cannot_check"
    assert "nginx:1.27" in check.summary


def test_an_ecr_tag_never_pushed_fails():
    probe = failed("image", "pairva-frontend:1.0.0 is not in the repository (never pushed, or deleted)")
    assert image_check(healthy(), probe).status == "fail"


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "taskdef.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_cli_catches_seed_001_offline_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    template = seed_001_backend_template()
    del template["taskDefinitionArn"]  # a file never registered
    status = main(["preflight", _write(tmp_path, template), "--offline", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert report["verdict"] == "fail"
    assert report["failed"] == ["placeholders"]
    assert report["task_definition"] == "pairva-backend"


def test_cli_passes_a_clean_file_offline_with_the_unchecked_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    status = main(["preflight", _write(tmp_path, {"taskDefinition": healthy()}), "--offline"])
    out = capsys.readouterr().out
    assert status == 0
    assert "INCOMPLETE" in out.splitlines()[0]
    assert "cannot check  image: offline: no AWS look-ups" in out


@pytest.mark.parametrize(
    ("document", "message"),
    [("{not json", "is not JSON"), (json.dumps({"family": "x"}), "has no containerDefinitions list")],
)
def test_cli_refuses_what_is_not_a_task_definition_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: str, message: str
):
    path = tmp_path / "taskdef.json"
    path.write_text(document)
    status = main(["preflight", str(path), "--offline"])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
