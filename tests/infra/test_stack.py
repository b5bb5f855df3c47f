"""CDK assertions on the synthesized EcsWatchdog template: what is deployed, and who may do what."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aws_cdk.assertions import Match, Template

from infra.ingest import STOPPED_SERVICE_TASKS_PATTERN
from tests.infra.conftest import ROOT


def test_rule_matches_only_stopped_service_tasks(template: Template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": {"lastStatus": ["STOPPED"], "group": [{"prefix": "service:"}]},
            },
            "State": "ENABLED",
        },
    )
    assert STOPPED_SERVICE_TASKS_PATTERN["detail"]["group"] == [{"prefix": "service:"}]


def test_deployment_and_service_action_rules_feed_the_incident_engine(template: Template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {"EventPattern": {"source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"]}},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.ecs"],
                "detail-type": ["ECS Service Action"],
                "detail": {
                    "eventName": [
                        "SERVICE_STEADY_STATE",
                        "SERVICE_TASK_START_IMPAIRED",
                        "SERVICE_TASK_PLACEMENT_FAILURE",
                    ]
                },
            }
        },
    )
    assert len(template.find_resources("AWS::Events::Rule")) == 3


def test_every_rule_delivers_to_the_queue_with_its_own_dead_letter_queue(template: Template):
    rules = template.find_resources("AWS::Events::Rule").values()
    for rule in rules:
        (target,) = rule["Properties"]["Targets"]
        assert "IngestEventsQueue" in target["Arn"]["Fn::GetAtt"][0]
        assert "IngestDeliveryDlq" in target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        assert target["RetryPolicy"] == {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 21600}


def test_events_queue_redrives_to_its_dlq_and_outlasts_the_function_timeout(template: Template):
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [Match.string_like_regexp("IngestEventsDlq"), "Arn"]},
                "maxReceiveCount": 5,
            },
            "VisibilityTimeout": 360,
            "SqsManagedSseEnabled": True,
        },
    )
    assert len(template.find_resources("AWS::SQS::Queue")) == 3


def test_function_consumes_the_queue_with_partial_batch_responses(template: Template):
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [Match.string_like_regexp("IngestEventsQueue"), "Arn"]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": 10,
            "ScalingConfig": {"MaximumConcurrency": 5},
        },
    )


def test_function_runs_python_3_14_on_arm64_with_reserved_concurrency(template: Template):
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "ecs_watchdog.handlers.ecs_events.handler",
            "ReservedConcurrentExecutions": 5,
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "TracingConfig": Match.absent(),  # tracing is a context switch, off by default
        },
    )


def test_function_environment_holds_no_secret_value(template: Template):
    env = next(iter(template.find_resources("AWS::Lambda::Function").values()))["Properties"]["Environment"]
    variables = env["Variables"]
    assert variables["SLACK_SECRET_NAME"] == "ecs-watchdog/slack-webhook"
    assert "hooks.slack.com" not in json.dumps(template.to_json())
    assert variables["FAILURE_THRESHOLD"] == "3" and variables["STUCK_DEPLOYMENT_MINUTES"] == "30"
    assert set(variables) == {
        "ALERTS_TOPIC_ARN",
        "STATE_TABLE_NAME",
        "FAILURE_THRESHOLD",
        "CRASH_LOOP_WINDOW_MINUTES",
        "STUCK_DEPLOYMENT_MINUTES",
        "CORRELATED_SERVICES",
        "CORRELATION_WINDOW_MINUTES",
        "SLACK_SECRET_NAME",
        "RUNBOOK_BASE_URL",
        "WATCHDOG_MODE",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }


def test_function_logs_are_kept_for_the_configured_retention(template: Template):
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_state_table_is_on_demand_with_ttl_pitr_and_encryption(template: Template):
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},
        },
    )


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(template: Template):
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("AlertsTopicKey"), "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                            }
                        )
                    ]
                )
            },
        },
    )
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "oncall@example.com"})


def test_function_role_may_do_exactly_what_the_watchdog_needs(template: Template):
    policies = [
        p
        for p in template.find_resources("AWS::IAM::Policy").values()
        if "FunctionsEventsRole" in json.dumps(p["Properties"]["Roles"])
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    by_action = {}
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            by_action[action] = json.dumps(statement["Resource"])
    assert set(by_action) == {
        # the SQS event source (CDK grants these on the events queue only)
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueUrl",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "secretsmanager:GetSecretValue",
        "ecs:DescribeTaskDefinition",
        "ecs:DescribeServices",
        "ecs:ListTagsForResource",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    assert "IngestEventsQueue" in by_action["sqs:ReceiveMessage"]
    assert "FunctionsEventsLogs" in by_action["logs:PutLogEvents"]
    assert "AlertsTopic" in by_action["sns:Publish"]
    assert "AlertsTopicKey" in by_action["kms:GenerateDataKey"]
    assert "secret:ecs-watchdog/slack-webhook-??????" in by_action["secretsmanager:GetSecretValue"]
    assert by_action["ecs:DescribeTaskDefinition"] == '"*"'
    assert ":service/*" in by_action["ecs:DescribeServices"]
    assert "StateTable" in by_action["dynamodb:PutItem"]
    role = next(r for k, r in template.find_resources("AWS::IAM::Role").items() if "FunctionsEventsRole" in k)
    assert "ManagedPolicyArns" not in role["Properties"]


def test_health_alarms_page_the_alerts_topic(template: Template):
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) == 5
    for alarm in alarms.values():
        assert "AlertsTopic" in json.dumps(alarm["Properties"]["AlarmActions"])
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Threshold": 1,
            "Dimensions": [
                {
                    "Name": "QueueName",
                    "Value": {"Fn::GetAtt": [Match.string_like_regexp("IngestEventsDlq"), "QueueName"]},
                }
            ],
        },
    )


def test_dashboard_shows_queue_dlq_errors_duration_and_throttles(template: Template):
    dashboard = next(iter(template.find_resources("AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Errors",
        "Duration",
        "Throttles",
        "FailureStops",
        "MalformedEvents",
    ):
        assert metric in body


def test_template_passes_cfn_lint(synthesized):
    _, out = synthesized
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    done = subprocess.run(
        [
            str(cfn_lint),
            "--config-file",
            str(ROOT / ".cfnlintrc.yaml"),
            str(out / "EcsWatchdog.template.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_cdk_nag_passes_and_every_acknowledgement_has_a_reason(synthesized):
    _, out = synthesized
    report = json.loads((out / "validation-report.json").read_text())
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert (nag["conclusion"], nag["violations"]) == ("success", [])
    acknowledged = {v["ruleName"] for v in nag["suppressedViolations"]}
    assert acknowledged == {
        "AwsSolutions-SQS3",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/*]",
    }
    reasons = (ROOT / "infra" / "nag.py").read_text()
    assert reasons.count("_acknowledge(\n") == len(acknowledged)


def test_a_stack_bound_to_an_account_and_region_also_passes_cdk_nag(tmp_path, monkeypatch):
    # `cdk synth` with credentials binds the stack to a concrete environment, which changes how
    # cdk-nag names resources; the acknowledgements must still match.
    from tests.infra.conftest import synth

    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    app, stack = synth(tmp_path)
    app.synth()  # raises on an unacknowledged finding
    assert stack.region == "eu-west-1"
