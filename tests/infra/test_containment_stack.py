"""Containment's infrastructure, synthesized: the hook rule, the kill switch, the events function's
permissions in dry-run and in enforce mode (policy STRUCTURE, not just action names), and the Lambda
lifecycle-hook function with the role ECS assumes to invoke it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.ingest import HOOK_STATE_CHANGE_PATTERN
from tests.infra.conftest import synth_template

WRITES = {
    "ecs:UpdateService",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:StopServiceDeployment",
    "application-autoscaling:RegisterScalableTarget",
    "iam:PassRole",
}


@pytest.fixture(scope="module")
def enforce_synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    out = tmp_path_factory.mktemp("cdk.out.enforce")
    template = synth_template(
        out,
        {
            "watchdog:mode": "enforce",
            "watchdog:cooldown_minutes": "45",
            "watchdog:max_actions_per_hour": 4,
            "watchdog:kill_switch_parameter": "/platform/watchdog-off",
        },
    )
    return template, out


@pytest.fixture(scope="module")
def enforce_template(enforce_synthesized: tuple[Template, Path]) -> Template:
    return enforce_synthesized[0]


def _statements(template: Template, role_prefix: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if role_prefix in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action) if isinstance(action, list) else {action}


def _by_sid(template: Template, role_prefix: str) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in _statements(template, role_prefix) if "Sid" in s}


def _function(template: Template, prefix: str) -> dict[str, Any]:
    (function,) = [f for k, f in template.find_resources("AWS::Lambda::Function").items() if k.startswith(prefix)]
    return function["Properties"]


def test_hook_state_changes_reach_the_events_queue_through_their_own_rule(template: Template) -> None:
    (rule,) = [
        r
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["detail-type"] == ["ECS Hook State Change"]
    ]
    assert rule["Properties"]["EventPattern"] == {"source": ["aws.ecs"], "detail-type": ["ECS Hook State Change"]}
    assert "IngestEventsQueue" in rule["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]
    assert HOOK_STATE_CHANGE_PATTERN["detail"] is None


def test_kill_switch_parameter_is_created_off(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/ecs-watchdog/kill-switch", "Type": "String", "Value": "off"}
    )


def test_events_function_is_told_the_containment_settings(enforce_template: Template) -> None:
    variables = _function(enforce_template, "FunctionsEvents")["Environment"]["Variables"]
    assert variables["WATCHDOG_MODE"] == "enforce"
    assert variables["CONTAINMENT_COOLDOWN_MINUTES"] == "45"
    assert variables["CONTAINMENT_MAX_ACTIONS_PER_HOUR"] == "4"
    assert variables["KILL_SWITCH_PARAMETER"] == "/platform/watchdog-off"
    assert variables["AUDIT_EVENT_BUS"] == "default"
    assert "IngestEventsQueue" in json.dumps(variables["RECHECK_QUEUE_URL"])


def test_dry_run_grants_reads_and_answers_but_no_service_write(template: Template) -> None:
    granted = set().union(*(_actions(s) for s in _statements(template, "FunctionsEventsRole")))
    assert granted & WRITES == set()
    assert {"ecs:ListServiceDeployments", "ssm:GetParameter", "ecr:DescribeImages"} <= granted
    # The gate fails open outside enforce: it answers CONTINUE, never ROLLBACK (gate/pause.py, tests/authz).
    assert "ecs:ContinueServiceDeployment" in granted
    assert all(s["Effect"] == "Allow" for s in _statements(template, "FunctionsEventsRole"))


def test_enforce_grants_exactly_the_containment_writes(enforce_template: Template) -> None:
    allowed = set().union(
        *(_actions(s) for s in _statements(enforce_template, "FunctionsEventsRole") if s["Effect"] == "Allow")
    )
    assert allowed >= WRITES
    assert not any(a.endswith("*") for a in allowed)


def test_ignore_tag_is_enforced_by_an_explicit_deny_on_every_service_write(enforce_template: Template) -> None:
    deny = _by_sid(enforce_template, "FunctionsEventsRole")["HonourIgnoreTag"]
    assert deny["Effect"] == "Deny"
    assert _actions(deny) == {"ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StopServiceDeployment"}
    assert deny["Condition"] == {"StringEquals": {"aws:ResourceTag/ecs-watchdog:action": "ignore"}}
    assert ":service/*" in json.dumps(deny["Resource"])


def test_service_writes_are_scoped_to_services_and_tags_to_the_watchdogs_own(enforce_template: Template) -> None:
    sids = _by_sid(enforce_template, "FunctionsEventsRole")
    assert _actions(sids["ContainServices"]) == {"ecs:UpdateService"}
    assert ":service/*" in json.dumps(sids["ContainServices"]["Resource"])
    tagging = sids["TagServicesWithPreviousDesiredCount"]
    assert tagging["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["ecs-watchdog:previous-desired-count"]}
    }


def test_deployment_calls_name_both_the_service_and_the_deployment(enforce_template: Template) -> None:
    sids = _by_sid(enforce_template, "FunctionsEventsRole")
    for sid in ("RollBackDeployments", "AnswerPauseHooks"):
        resources = json.dumps(sids[sid]["Resource"])
        assert ":service-deployment/*" in resources and ":service/*" in resources, sid
    assert "DescribeServiceDeployments" not in sids  # no code calls it
    assert _actions(sids["RollBackDeployments"]) == {"ecs:StopServiceDeployment"}
    assert _actions(sids["AnswerPauseHooks"]) == {"ecs:ContinueServiceDeployment"}


def test_scaling_kill_switch_audit_and_pass_role_are_each_narrowed(enforce_template: Template) -> None:
    sids = _by_sid(enforce_template, "FunctionsEventsRole")
    assert ":scalable-target/*" in json.dumps(sids["SuspendServiceScaling"]["Resource"])
    assert sids["DescribeScalableTargets"]["Resource"] == "*"
    # ":parameter" + the parameter's name, which starts with "/": this one parameter, nothing else.
    kill_switch = json.dumps(sids["ReadKillSwitch"]["Resource"])
    assert '":parameter", {"Ref": "ContainmentKillSwitch' in kill_switch
    assert ":event-bus/default" in json.dumps(sids["EmitAuditEvents"]["Resource"])
    assert "IngestEventsQueue" in json.dumps(sids["RecheckLater"]["Resource"])
    assert sids["PassTaskRolesOnRollback"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }


def test_lifecycle_hook_function_runs_the_hook_handler_on_arm64_with_its_own_logs(template: Template) -> None:
    function = _function(template, "ContainmentLifecycleHookFunction")
    assert function["Handler"] == "ecs_watchdog.handlers.lifecycle_hook.handler"
    assert (function["Architectures"], function["Runtime"]) == (["arm64"], "python3.14")
    assert "StateTable" in json.dumps(function["Environment"]["Variables"]["STATE_TABLE_NAME"])
    assert "ContainmentLifecycleHookLogs" in json.dumps(function["LoggingConfig"])


def test_lifecycle_hook_function_is_told_the_accounts_mode(template: Template, enforce_template: Template) -> None:
    # Without it the hook would answer FAILED in dry-run, and ECS would really roll the deployment back.
    # And the kill switch's parameter (the enforce template names its own), which lowers enforce to dry-run.
    for synthesized, mode, switch in (
        (template, "dry-run", "/ecs-watchdog/kill-switch"),
        (enforce_template, "enforce", "/platform/watchdog-off"),
    ):
        variables = _function(synthesized, "ContainmentLifecycleHookFunction")["Environment"]["Variables"]
        assert (variables["WATCHDOG_MODE"], variables["KILL_SWITCH_PARAMETER"]) == (mode, switch)


def test_lifecycle_hook_function_may_only_read_state_revisions_tags_and_the_kill_switch(template: Template) -> None:
    statements = _statements(template, "ContainmentLifecycleHookRole")
    granted = {a: json.dumps(s["Resource"]) for s in statements for a in _actions(s)}
    assert set(granted) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:GetItem",
        "ecs:DescribeServiceRevisions",
        "ecs:ListServiceDeployments",
        "ecs:ListTagsForResource",
        "ssm:GetParameter",
    }
    assert "StateTable" in granted["dynamodb:GetItem"]
    assert "KillSwitch" in granted["ssm:GetParameter"]
    assert ":service/*" in granted["ecs:ListTagsForResource"]
    assert ":service-revision/*" in granted["ecs:DescribeServiceRevisions"]


def test_ecs_assumes_a_role_that_may_invoke_only_the_hook_function(template: Template) -> None:
    roles = template.find_resources("AWS::IAM::Role")
    (role_id,) = [k for k in roles if k.startswith("ContainmentLifecycleHookInvokeRole")]
    trust = roles[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "ecs.amazonaws.com"}]
    (statement,) = _statements(template, role_id)
    assert _actions(statement) == {"lambda:InvokeFunction"}
    assert "ContainmentLifecycleHookFunction" in json.dumps(statement["Resource"])


def test_outputs_name_the_hook_function_its_role_and_the_kill_switch(template: Template) -> None:
    outputs = template.to_json()["Outputs"]
    assert "ContainmentLifecycleHookFunction" in json.dumps(outputs["LifecycleHookFunctionArn"]["Value"])
    assert "ContainmentLifecycleHookInvokeRole" in json.dumps(outputs["LifecycleHookRoleArn"]["Value"])
    assert "ContainmentKillSwitch" in json.dumps(outputs["KillSwitchParameter"]["Value"])


def test_enforce_mode_passes_cdk_nag_with_its_two_extra_acknowledgements(enforce_synthesized) -> None:
    _, out = enforce_synthesized
    report = json.loads((out / "validation-report.json").read_text())
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert (nag["conclusion"], nag["violations"]) == ("success", [])
    acknowledged = {v["ruleName"] for v in nag["suppressedViolations"]}
    enforce_only = {r for r in acknowledged if "scalable-target/*" in r or ":role/*" in r}
    diagnose = {
        r for r in acknowledged if r not in enforce_only and "ecs:" not in r and r != "AwsSolutions-IAM5[Resource::*]"
    }
    # 7, plus container-instance/* for ListTasks on an impaired instance (task/* was acknowledged already)
    assert len(enforce_only) == 2 and len(acknowledged - diagnose) == 8
