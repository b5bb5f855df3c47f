"""CDK assertions on the sweep: its schedule, its function, its least-privilege role, the state index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.config import ConfigError, load_config
from tests.infra.conftest import CHANNEL, synth_template


def _statements(template: Template, role_prefix: str) -> dict[str, Any]:
    (policy,) = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if p["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    return {s.get("Sid", str(n)): s for n, s in enumerate(policy["Properties"]["PolicyDocument"]["Statement"])}


def test_sweep_runs_every_five_minutes_by_default_without_retries(template: Template):
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "State": "ENABLED",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": {"Fn::GetAtt": [Match.string_like_regexp("SweepSweepFunction"), "Arn"]},
                "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300},
            },
        },
    )


def test_sweep_function_stops_itself_before_its_timeout_and_keeps_its_logs(template: Template):
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "ecs_watchdog.handlers.sweep.handler",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "Environment": {
                "Variables": Match.object_like({"SWEEP_BUDGET_SECONDS": "90", "WATCHDOG_LEASE_SECONDS": "150"})
            },
            "LoggingConfig": Match.object_like({"LogGroup": {"Ref": Match.string_like_regexp("SweepSweepLogs")}}),
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30, "LogGroupName": Match.absent()})


def test_sweep_role_lists_describes_and_queries_only_the_watched_index(template: Template):
    statements = _statements(template, "SweepSweepRole")
    assert statements["ListClustersAndServices"]["Action"] == ["ecs:ListClusters", "ecs:ListServices"]
    assert statements["ListClustersAndServices"]["Resource"] == "*"
    describe = statements["DescribeServices"]
    assert describe["Action"] == ["ecs:DescribeServices", "ecs:ListTagsForResource"]
    assert describe["Resource"]["Fn::Join"][1][-1] == ":service/*"
    query = statements["QueryWatchedServices"]
    assert query["Action"] == "dynamodb:Query"
    assert query["Resource"]["Fn::Join"][1][-1] == "/index/watched"
    assert statements["ReadWriteOwnState"]["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    actions = {a for s in statements.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not any(a.startswith(("ecs:Update", "ecs:Stop", "ecs:Delete", "dynamodb:Scan")) for a in actions)


def test_only_the_scheduler_may_invoke_the_sweep(template: Template):
    statements = _statements(template, "SweepSweepScheduleRole")
    (invoke,) = statements.values()
    assert invoke["Action"] == "lambda:InvokeFunction"
    # The function and its versions/aliases (`<arn>:*`), nothing else.
    assert all("SweepSweepFunction" in json.dumps(resource) for resource in invoke["Resource"])
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": Match.any_value()}},
                        }
                    )
                ]
            }
        },
    )


def test_state_table_has_a_sparse_keys_only_index_of_watched_services(template: Template):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "watched",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ]
        },
    )


def test_sweep_minutes_zero_deploys_no_sweep(tmp_path: Path):
    template = synth_template(tmp_path, {"watchdog:sweep_minutes": "0"})
    assert template.find_resources("AWS::Scheduler::Schedule") == {}
    handlers = [f["Properties"]["Handler"] for f in template.find_resources("AWS::Lambda::Function").values()]
    assert "ecs_watchdog.handlers.sweep.handler" not in handlers


@pytest.mark.parametrize("value", ["-1", "1441", "five"])
def test_sweep_minutes_out_of_range_is_refused_naming_the_key(value):
    with pytest.raises(ConfigError, match="watchdog:sweep_minutes"):
        load_config({**CHANNEL, "watchdog:sweep_minutes": value})
