"""The diagnosis report: the JSON contract, the text for people, and the SNS/Slack messages."""

from __future__ import annotations

import json

from ecs_watchdog.diagnose.messages import diagnosis_slack_payload, diagnosis_sns_message
from ecs_watchdog.diagnose.model import Diagnosis, ProbeRun, errored, failed, passed, skipped
from ecs_watchdog.diagnose.report import NEXT_CHECKS, report_json, report_text, verdict

TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/pairva-backend:7"


def _diagnosis(*runs: ProbeRun, calls: tuple[str, ...] = ()) -> Diagnosis:
    every = calls or ("ecs.DescribeServices", "ecs.DescribeTaskDefinition", *(c for r in runs for c in r.api_calls))
    return Diagnosis(
        cluster="pairva-cluster",
        service="pairva-backend",
        task_definition_arn=TASK_DEFINITION,
        runs=runs,
        api_calls=every,
        elapsed_seconds=0.42,
    )


def _seed_001() -> Diagnosis:
    return _diagnosis(
        ProbeRun(result=passed("task_definition", "no problem found")),
        ProbeRun(result=skipped("secrets", "the task definition references no secret or parameter")),
        ProbeRun(
            result=failed(
                "logging",
                "backend: log group /aws/ecs/pairva-cluster does not exist",
                ["backend: log group /aws/ecs/pairva-cluster does not exist"],
                "/aws/ecs/pairva-cluster",
            ),
            api_calls=("logs.DescribeLogGroups",),
            elapsed_seconds=0.05,
        ),
        ProbeRun(
            result=errored("secret_access", "SimulatePrincipalPolicy: AccessDenied: no"),
            api_calls=("iam.SimulatePrincipalPolicy",),
        ),
        ProbeRun(
            result=failed("image", "pairva-backend:1.0.1 is not in the repository (never pushed, or deleted)"),
            api_calls=("api.ecr.DescribeImages",),
        ),
    )


def test_failing_probes_come_first_then_errors_passes_and_skipped_in_run_order():
    report = report_json(_seed_001())
    assert [(p["name"], p["status"]) for p in report["probes"]] == [
        ("logging", "fail"),
        ("image", "fail"),
        ("secret_access", "error"),
        ("task_definition", "pass"),
        ("secrets", "skipped"),
    ]
    assert report["verdict"] == "fail"
    assert report["failing"] == ["logging", "image"]
    assert report["counts"] == {"fail": 2, "error": 1, "pass": 1, "skipped": 1}


def test_json_report_holds_every_contract_field_and_is_json():
    report = report_json(_seed_001(), task_arn="arn:aws:ecs:us-east-1:123456789012:task/pairva-cluster/abc")
    assert json.loads(json.dumps(report)) == report
    assert set(report) == {
        "version",
        "cluster",
        "service",
        "task_definition",
        "task",
        "verdict",
        "failing",
        "counts",
        "probes",
        "api_calls",
        "elapsed_ms",
    }
    logging = report["probes"][0]
    assert logging == {
        "name": "logging",
        "status": "fail",
        "summary": "backend: log group /aws/ecs/pairva-cluster does not exist",
        "evidence": ["backend: log group /aws/ecs/pairva-cluster does not exist"],
        "resource": "/aws/ecs/pairva-cluster",
        "next_checks": list(NEXT_CHECKS["logging"]),
        "runbook": "docs/runbooks/logging.md",
        "api_calls": ["logs.DescribeLogGroups"],
        "elapsed_ms": 50,
    }
    assert report["api_calls"] == {
        "total": 5,
        "by_operation": {
            "ecs.DescribeServices": 1,
            "ecs.DescribeTaskDefinition": 1,
            "logs.DescribeLogGroups": 1,
            "iam.SimulatePrincipalPolicy": 1,
            "api.ecr.DescribeImages": 1,
        },
    }
    assert report["elapsed_ms"] == 420


def test_runbooks_use_the_base_url_and_only_failing_probes_have_one():
    report = report_json(_seed_001(), runbook_base_url="https://git.example.com/ecs-watchdog/blob/main/")
    runbooks = {p["name"]: p["runbook"] for p in report["probes"]}
    assert runbooks["image"] == "https://git.example.com/ecs-watchdog/blob/main/docs/runbooks/image.md"
    assert runbooks["secret_access"] is None and runbooks["task_definition"] is None


def test_an_error_says_how_to_let_the_probe_look_and_a_pass_says_nothing_more():
    probes = {p["name"]: p for p in report_json(_seed_001())["probes"]}
    assert "minimal IAM policy" in probes["secret_access"]["next_checks"][0]
    assert probes["task_definition"]["next_checks"] == []


def test_verdicts_distinguish_found_unchecked_incomplete_and_clean():
    ok = ProbeRun(result=passed("image", "every ECR image exists"))
    error = ProbeRun(result=errored("image", "ECS does not know service x in cluster y"))
    assert verdict(_diagnosis(ok)) == "pass"
    assert verdict(_diagnosis(ok, ProbeRun(result=errored("logging", "throttled")))) == "incomplete"
    assert verdict(_diagnosis(error, ProbeRun(result=errored("logging", "same")))) == "unchecked"
    assert verdict(_seed_001()) == "fail"


def test_text_report_lists_each_probe_with_evidence_resource_and_next_checks():
    text = report_text(_seed_001())
    lines = text.splitlines()
    assert lines[0] == (
        "ecs-watchdog diagnosis — pairva-backend in pairva-cluster: 2 of 5 probes found a cause (logging, image)"
    )
    assert lines[1] == f"Task definition: {TASK_DEFINITION}"
    assert text.index("[FAIL] logging") < text.index("[FAIL] image") < text.index("[ERROR] secret_access")
    assert text.index("[ERROR] secret_access") < text.index("[PASS] task_definition") < text.index("[SKIPPED] secrets")
    assert "  resource: /aws/ecs/pairva-cluster" in lines
    assert "  - backend: log group /aws/ecs/pairva-cluster does not exist" in lines
    assert f"    1. {NEXT_CHECKS['logging'][0]}" in lines
    assert "  runbook: docs/runbooks/logging.md" in lines
    assert lines[-1] == "5 read-only API calls in 0.42 s"


def test_sns_message_has_a_short_ascii_subject_and_the_whole_text_report():
    message = diagnosis_sns_message(_seed_001())
    assert len(message.subject) < 100 and message.subject.isascii()
    assert message.subject.startswith("[ecs-watchdog] diagnosis FAIL: pairva-backend in pairva-cluster")
    assert message.body == report_text(_seed_001())


def test_slack_payload_shows_failing_and_erroring_probes_and_lists_the_rest():
    payload = diagnosis_slack_payload(_seed_001())
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header"
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert [s.split("*")[1].split(":")[0] for s in sections] == [
        "[FAIL] logging",
        "[FAIL] image",
        "[ERROR] secret_access",
    ]
    assert blocks[-1]["elements"][0]["text"] == ":white_check_mark: task_definition  :white_circle: secrets"


def test_slack_payload_stays_within_block_kit_limits_for_huge_evidence():
    evidence = [f"container-{n}: log group /ecs/{'x' * 200} does not exist" for n in range(60)]
    runs = tuple(ProbeRun(result=failed(f"probe_{n}", "missing", evidence)) for n in range(70))
    payload = diagnosis_slack_payload(_diagnosis(*runs))
    assert len(payload["blocks"]) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if b["type"] == "section")
