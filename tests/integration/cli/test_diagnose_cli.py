"""`ecs-watchdog diagnose` against moto's ThreadedMotoServer on 127.0.0.1 (AWS_ENDPOINT_URL), never AWS."""

from __future__ import annotations

import json

import boto3
import pytest

from ecs_watchdog.cli import main
from ecs_watchdog.diagnose.permissions import diagnosis_actions, iam_action
from tests.integration.cli.conftest import REGION
from tests.integration.diagnose_account import CLUSTER, LOG_GROUP, SERVICE


def _diagnose(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    status = main(["diagnose", "--cluster", CLUSTER, "--region", REGION, *extra])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_healthy_service_exits_0_and_reports_every_probe(account, capsys):
    status, out, _ = _diagnose(capsys, "--service", SERVICE, "--json")
    report = json.loads(out)
    assert status == 0
    statuses = {p["name"]: p["status"] for p in report["probes"]}
    # moto has no iam:SimulatePrincipalPolicy: that probe says it could not look, and blocks nothing.
    assert statuses.pop("secret_access") == "error"
    assert statuses == {
        "task_definition": "pass",
        "service_configuration": "pass",
        "image": "pass",
        "secrets": "pass",
        "logging": "pass",
        "load_balancer": "skipped",
        "network": "pass",
    }
    assert report["verdict"] == "incomplete"
    assert report["task_definition"] == account["task_definition"]


def test_a_missing_log_group_exits_1_and_leads_the_text_report(account, capsys):
    boto3.Session(region_name=REGION).client("logs").delete_log_group(logGroupName=LOG_GROUP)
    status, out, _ = _diagnose(capsys, "--service", SERVICE)
    assert status == 1
    lines = out.splitlines()
    assert lines[0].endswith(f"{SERVICE} in {CLUSTER}: 1 of 8 probes found a cause (logging)")
    assert lines[3] == f"[FAIL] logging: frontend: log group {LOG_GROUP} does not exist"


def test_a_task_arn_finds_its_service(account, capsys):
    status, out, _ = _diagnose(capsys, "--task", account["task"], "--json")
    report = json.loads(out)
    assert (status, report["service"], report["task"]) == (0, SERVICE, account["task"])


def test_unknown_service_task_or_region_exit_2(account, capsys, monkeypatch):
    status, out, err = _diagnose(capsys, "--service", "no-such-service", "--json")
    assert (status, json.loads(out)["verdict"]) == (2, "unchecked")
    assert "nothing could be checked" in err
    status, _, err = _diagnose(capsys, "--task", account["standalone_task"])
    assert status == 2 and "was not started by a service" in err
    status, _, err = _diagnose(capsys, "--task", account["task"], "--service", "pairva-backend")
    assert status == 2 and f"belongs to service {SERVICE}" in err
    assert main(["diagnose", "--cluster", CLUSTER, "--service", SERVICE]) == 2
    assert "no region" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["diagnose", "--service", SERVICE])
    assert usage.value.code == 2


def test_every_call_the_cli_makes_is_in_the_published_minimal_policy(account, capsys):
    _, out, _ = _diagnose(capsys, "--task", account["task"], "--json", "--read-secret-values")
    report = json.loads(out)
    called = {iam_action(call) for call in report["api_calls"]["by_operation"]}
    assert "secretsmanager:GetSecretValue" in called
    assert called <= diagnosis_actions(read_secret_values=True)
    assert "secretsmanager:GetSecretValue" not in diagnosis_actions(read_secret_values=False)
