"""CDK assertions on Slack's interactivity function: its public Function URL, its role, its settings, its output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import ConfigError, load_config
from tests.infra.conftest import CHANNEL, synth_template

HANDLER = "ecs_watchdog.handlers.slack_interactions.handler"
BOT = {"watchdog:slack_bot_secret_name": "ecs-watchdog/slack-bot", "watchdog:slack_channel": "#alerts"}


def _function(template: Template) -> dict[str, Any]:
    (function,) = [
        f for f in template.find_resources("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == HANDLER
    ]
    return dict(function["Properties"])


def _statements(template: Template) -> dict[str, Any]:
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith("SlackInteractionsSlackInteractionsRole")
    ]
    return {s.get("Sid", str(n)): s for n, s in enumerate(policy["Properties"]["PolicyDocument"]["Statement"])}


def test_without_a_signing_secret_there_is_no_interactivity_function_nor_url(template: Template):
    assert not [
        f for f in template.find_resources("AWS::Lambda::Function").values() if f["Properties"]["Handler"] == HANDLER
    ]
    assert template.find_resources("AWS::Lambda::Url") == {}
    assert "SlackInteractivityUrl" not in template.to_json()["Outputs"]


def test_the_function_url_is_public_and_its_url_is_the_stacks_output(configured_template: Template):
    (url,) = configured_template.find_resources("AWS::Lambda::Url").values()
    assert url["Properties"]["AuthType"] == "NONE"  # Slack cannot sign SigV4: its own signature is the check
    target = url["Properties"]["TargetFunctionArn"]["Fn::GetAtt"][0]
    assert target.startswith("SlackInteractionsSlackInteractionsFunction")
    permissions = {
        p["Properties"]["Action"]: p["Properties"]
        for p in configured_template.find_resources("AWS::Lambda::Permission").values()
        if target in json.dumps(p)
    }
    assert permissions["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert permissions["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True  # only through the URL
    output = configured_template.to_json()["Outputs"]["SlackInteractivityUrl"]
    assert output["Value"] == {
        "Fn::GetAtt": [next(iter(configured_template.find_resources("AWS::Lambda::Url"))), "FunctionUrl"]
    }
    assert "Request URL" in output["Description"]


def test_the_function_is_told_the_secret_who_may_press_and_the_events_functions_settings(configured_template: Template):
    function = _function(configured_template)
    variables = function["Environment"]["Variables"]
    assert variables["WATCHDOG_SLACK_SIGNING_SECRET_NAME"] == "team/slack-signing"
    assert variables["WATCHDOG_SLACK_ALLOWED_USERS"] == "U0123ONCALL,W0456LEAD"
    assert variables["WATCHDOG_SLACK_ALLOWED_USERGROUP"] == "S0789ONCALL"
    assert variables["SLACK_BOT_SECRET_NAME"] == "team/slack-bot" and variables["WATCHDOG_MODE"] == "dry-run"
    assert {"STATE_TABLE_NAME", "ALERTS_TOPIC_ARN", "KILL_SWITCH_PARAMETER", "AUDIT_EVENT_BUS"} <= set(variables)
    assert (function["Architectures"], function["Timeout"], function["ReservedConcurrentExecutions"]) == (
        ["arm64"],
        15,
        5,
    )
    assert function["LoggingConfig"]["LogGroup"]["Ref"].startswith("SlackInteractionsSlackInteractionsLogs")
    configured_template.has_resource_properties(
        "AWS::Logs::LogGroup", {"RetentionInDays": 30, "LogGroupName": Match.absent()}
    )


def test_outside_approve_and_enforce_the_role_reads_and_records_clicks_and_acts_on_nothing(
    configured_template: Template,
):
    statements = _statements(configured_template)  # dry-run: an approval is refused before any ECS call
    xray = statements.pop("0")  # watchdog:tracing is set in this template: CDK's own X-Ray grant comes first
    assert sorted(xray["Action"]) == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    assert set(statements) == {
        "WriteOwnLogs",
        "ReadSlackSigningSecret",
        "ReadWriteOwnState",
        "EmitClickAuditEvents",
        "ReadSlackBotToken",
    }
    assert statements["WriteOwnLogs"]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    secret = statements["ReadSlackSigningSecret"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert secret["Resource"]["Fn::Join"][1][-1].endswith(":123456789012:secret:team/slack-signing-??????")
    assert statements["ReadWriteOwnState"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert statements["ReadSlackBotToken"]["Resource"]["Fn::Join"][1][-1].endswith(":secret:team/slack-bot-??????")


@pytest.fixture(scope="module")
def approving_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Approve mode with the bot and the signing secret: synthesized with cdk-nag (a finding raises)."""
    context = {**BOT, "watchdog:mode": "approve", "watchdog:slack_signing_secret_name": "team/slack-signing"}
    return synth_template(tmp_path_factory.mktemp("approve"), context)


def test_in_approve_mode_the_function_acts_as_the_enforce_role_would_and_is_told_the_same(
    approving_template: Template,
):
    statements = _statements(approving_template)
    writes = {
        action
        for s in statements.values()
        if s["Effect"] == "Allow"
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert {"ecs:StopServiceDeployment", "ecs:UpdateService", "ecs:TagResource", "iam:PassRole"} <= writes
    assert {"ecs:DescribeServices", "ssm:GetParameter", "events:PutEvents", "sns:Publish"} <= writes
    assert "ecs:ContinueServiceDeployment" not in writes  # the deployment gate's: never the desk's
    deny = statements["HonourIgnoreTag"]  # the per-service opt-out holds for a person's approval too
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "StringEquals": {"aws:ResourceTag/ecs-watchdog:action": "ignore"}
    }
    variables = _function(approving_template)["Environment"]["Variables"]
    (events,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in approving_template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "ecs_watchdog.handlers.ecs_events.handler"
    ]
    shared = set(events) - {"PARKED_RECORDS_QUEUE_URL", "WATCHDOG_LEASE_SECONDS", "RECHECK_QUEUE_URL"}
    assert {k: variables[k] for k in shared} == {k: events[k] for k in shared}
    assert variables["WATCHDOG_MODE"] == "approve" and "WATCHDOG_APPROVAL_MINUTES" in variables


def test_no_reservation_unless_asked(tmp_path):
    config = load_config({**CHANNEL, **BOT, "watchdog:slack_signing_secret_name": "ecs-watchdog/slack-signing"})
    assert config.slack_reserved_concurrency is None and config.slack_allowed_users == ()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"watchdog:slack_allowed_users": "ana"}, "'ana' is not a Slack user id (U... or W..."),
        ({"watchdog:slack_allowed_users": "S0789ONCALL"}, "goes in watchdog:slack_allowed_usergroup"),
        (
            {"watchdog:slack_allowed_usergroup": "@oncall"},
            "'@oncall' is not a Slack user group id (S..., not its @handle)",
        ),
        ({"watchdog:slack_signing_secret_name": "https://hooks.slack.com/x"}, "give the NAME of the secret"),
        ({"watchdog:slack_reserved_concurrency": "0"}, "0 is out of range 1..1000"),
    ],
)
def test_bad_interactivity_keys_are_refused_naming_the_key(context, message):
    with pytest.raises(ConfigError, match="watchdog:slack_") as refused:
        load_config({**CHANNEL, **BOT, "watchdog:slack_signing_secret_name": "s", **context})
    assert message in str(refused.value)


def test_who_may_press_without_the_signing_secret_is_refused():
    with pytest.raises(
        ConfigError, match="watchdog:slack_allowed_users is set but watchdog:slack_signing_secret_name is empty"
    ):
        load_config({**CHANNEL, **BOT, "watchdog:slack_allowed_users": ["U0123ONCALL"]})


def test_buttons_without_the_bot_are_refused():
    with pytest.raises(ConfigError, match="slack_signing_secret_name needs watchdog:slack_bot_secret_name"):
        load_config({**CHANNEL, "watchdog:slack_signing_secret_name": "ecs-watchdog/slack-signing"})
