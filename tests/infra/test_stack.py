"""CDK assertions on the synthesized EcsWatchdog template: what is deployed, and who may do what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk.assertions import Match, Template

from infra.ingest import SERVICE_ACTION_PATTERN, STOPPED_SERVICE_TASKS_PATTERN
from tests.infra.conftest import ROOT, SLACK_KEY_ARN


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
                "detail": {"$or": [{"eventType": ["WARN", "ERROR"]}, {"eventName": ["SERVICE_STEADY_STATE"]}]},
            }
        },
    )
    assert SERVICE_ACTION_PATTERN["detail"] == {
        "$or": [{"eventType": ["WARN", "ERROR"]}, {"eventName": ["SERVICE_STEADY_STATE"]}]
    }
    # + ECS Hook State Change (test_containment_stack), failed ECS API calls (CloudTrail) and container
    # instance health (test_event_patterns)
    assert len(template.find_resources("AWS::Events::Rule")) == 6


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


def test_the_event_source_invokes_as_soon_as_records_arrive_so_a_failure_is_acted_on_within_a_second(
    template: Template,
):
    # watchdog:batching_window_seconds defaults to 0: no batching window stands between a failure and its action.
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"MaximumBatchingWindowInSeconds": 0, "BatchSize": 10}
    )


def test_function_runs_python_3_14_on_arm64_without_reserved_concurrency(template: Template):
    # Accounts with a concurrency quota of 10 refuse any reservation: the event source bounds concurrency.
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.14",
            "Architectures": ["arm64"],
            "Handler": "ecs_watchdog.handlers.ecs_events.handler",
            "ReservedConcurrentExecutions": Match.absent(),
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "TracingConfig": Match.absent(),  # tracing is a context switch, off by default
        },
    )


def test_reserved_concurrency_when_set_bounds_the_function_above_the_event_source(configured_template: Template):
    configured_template.has_resource_properties(
        "AWS::Lambda::Function",
        {"ReservedConcurrentExecutions": 8, "TracingConfig": {"Mode": "Active"}},
    )
    configured_template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 4}}
    )


def test_function_environment_holds_no_secret_value(template: Template):
    env = template.find_resources("AWS::Lambda::Function")[
        _logical_id(template, "AWS::Lambda::Function", "FunctionsEvents")
    ]["Properties"]["Environment"]
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
        "SLACK_BOT_SECRET_NAME",
        "SLACK_CHANNEL",
        "PAGERDUTY_SECRET_NAME",  # a name, never the routing key
        "PARKED_RECORDS_QUEUE_URL",
        "WATCHDOG_LEASE_SECONDS",
        "RUNBOOK_BASE_URL",
        "WATCHDOG_MODE",
        "CONTAINMENT_COOLDOWN_MINUTES",
        "CONTAINMENT_MAX_ACTIONS_PER_HOUR",
        "WATCHDOG_APPROVAL_MINUTES",
        "KILL_SWITCH_PARAMETER",
        "AUDIT_EVENT_BUS",
        "RECHECK_QUEUE_URL",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
        "PYDANTIC_DISABLE_PLUGINS",
    }


def test_every_function_skips_pydantics_plugin_scan_at_cold_start(template: Template, configured_template: Template):
    # Each cold start would otherwise read the metadata of every installed distribution (issue 23).
    for synthesized, functions in ((template, 4), (configured_template, 5)):  # + Slack interactions
        told = {
            name: f["Properties"].get("Environment", {}).get("Variables", {}).get("PYDANTIC_DISABLE_PLUGINS")
            for name, f in synthesized.find_resources("AWS::Lambda::Function").items()
            if f["Properties"].get("Runtime", "").startswith("python")
        }
        assert len(told) >= functions and set(told.values()) == {"__all__"}, told


def test_function_is_told_where_to_park_records_and_how_long_it_holds_one(template: Template):
    variables = template.find_resources("AWS::Lambda::Function")[
        _logical_id(template, "AWS::Lambda::Function", "FunctionsEvents")
    ]["Properties"]["Environment"]["Variables"]
    assert variables["PARKED_RECORDS_QUEUE_URL"] == {"Ref": _logical_id(template, "AWS::SQS::Queue", "IngestEventsDlq")}
    queue = template.find_resources("AWS::SQS::Queue")[_logical_id(template, "AWS::SQS::Queue", "IngestEventsQueue")]
    queue = queue["Properties"]
    # The delivery lease outlives any invocation (60 s) and expires before SQS retries the record (360 s).
    assert int(variables["WATCHDOG_LEASE_SECONDS"]) == 90 < queue["VisibilityTimeout"] == 360


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
        # the services on an impaired container instance (incidents/infrastructure.py), and the
        # transient-failure judgement's look at the failing service's tasks (contain/transient.py)
        "ecs:ListTasks",
        "ecs:DescribeTasks",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
        # the confirming probes (diagnose/permissions.py: confirming_probe_statements)
        "ecr:DescribeImages",
        "secretsmanager:DescribeSecret",
        "iam:SimulatePrincipalPolicy",
        "logs:DescribeLogGroups",
        "ssm:DescribeParameters",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ec2:DescribeVpcEndpoints",
        # containment in dry-run (the default): reads, the kill switch, audit events (tests/authz proves each used)
        # and the gate's fail-open CONTINUE
        "ecs:ContinueServiceDeployment",
        "ecs:ListServiceDeployments",
        "application-autoscaling:DescribeScalableTargets",
        "ssm:GetParameter",
        "events:PutEvents",
    }
    assert "IngestEventsQueue" in by_action["sqs:ReceiveMessage"]
    assert ":task/*" in by_action["ecs:DescribeTasks"]
    parked = json.dumps({"Fn::GetAtt": [_logical_id(template, "AWS::SQS::Queue", "IngestEventsDlq"), "Arn"]})
    assert parked in [json.dumps(s["Resource"]) for s in statements if s["Action"] == "sqs:SendMessage"]
    assert "FunctionsEventsLogs" in by_action["logs:PutLogEvents"]
    assert "AlertsTopic" in by_action["sns:Publish"]
    assert "AlertsTopicKey" in by_action["kms:GenerateDataKey"]
    assert "secret:ecs-watchdog/slack-webhook-??????" in by_action["secretsmanager:GetSecretValue"]
    assert by_action["ecs:DescribeTaskDefinition"] == '"*"'
    assert ":service/*" in by_action["ecs:DescribeServices"]
    assert ":container-instance/*" in by_action["ecs:ListTasks"] and ":task/*" in by_action["ecs:DescribeTasks"]
    assert "StateTable" in by_action["dynamodb:PutItem"]
    role = next(r for k, r in template.find_resources("AWS::IAM::Role").items() if "FunctionsEventsRole" in k)
    assert "ManagedPolicyArns" not in role["Properties"]


def _logical_id(template: Template, resource_type: str, prefix: str) -> str:
    (logical_id,) = [k for k in template.find_resources(resource_type) if k.startswith(prefix)]
    return logical_id


def _events_role_statements(template: Template) -> list[dict]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "FunctionsEventsRole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_slack_secret_key_may_decrypt_only_through_secrets_manager(configured_template: Template):
    decrypts = [s for s in _events_role_statements(configured_template) if SLACK_KEY_ARN in json.dumps(s)]
    assert decrypts == [
        {
            "Action": "kms:Decrypt",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": {"Fn::Join": ["", ["secretsmanager.eu-west-1.", {"Ref": "AWS::URLSuffix"}]]}
                }
            },
            "Effect": "Allow",
            "Resource": SLACK_KEY_ARN,
            "Sid": "DecryptSlackWebhook",
        }
    ]


def test_without_a_slack_key_the_role_decrypts_only_the_alerts_key(template: Template):
    decrypts = [s for s in _events_role_statements(template) if "kms:Decrypt" in json.dumps(s["Action"])]
    assert len(decrypts) == 1 and "AlertsTopicKey" in json.dumps(decrypts[0]["Resource"])


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
        "Stops",
        "MalformedEvents",
    ):
        assert metric in body


def test_cdk_nag_passes_and_every_acknowledgement_has_a_reason(synthesized):
    _, out = synthesized
    report = json.loads((out / "validation-report.json").read_text())
    (nag,) = [r for r in report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert (nag["conclusion"], nag["violations"]) == ("success", [])
    acknowledged = {v["ruleName"] for v in nag["suppressedViolations"]}
    events_function = {
        "AwsSolutions-SQS3",
        "AwsSolutions-IAM5[Resource::*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service-revision/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:service-deployment/*]",
        "AwsSolutions-IAM5[Resource::<SweepSweepFunctionED2D4A0B.Arn>:*]",  # the scheduler's invoke grant
        # ListTasks / DescribeTasks: the services on an impaired container instance
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:container-instance/*]",
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/*]",
    }
    assert acknowledged == events_function | _diagnose_role_acknowledgements()
    reasons = (ROOT / "infra" / "nag.py").read_text()
    # One call (in a loop, its reason made from each statement's `why`) acknowledges the diagnose role's;
    # two more apply in enforce mode only (test_containment_stack.py checks them); the sweep role
    # acknowledges two of the events role's findings again, for itself.
    # the events role's confirming probes: one more call, in a loop like the diagnose role's; the reads
    # naming the services on an impaired instance: one call, in a loop, for two findings
    # and the interactivity role's X-Ray grant under watchdog:tracing: one more, in a stack with the buttons only
    assert reasons.count("_acknowledge(\n") == len(events_function) + 1 + 1 + 2 + 2 - 1 + 1


def _diagnose_role_acknowledgements() -> set[str]:
    from ecs_watchdog.diagnose.permissions import diagnosis_statements

    names = {"partition": "<AWS::Partition>", "region": "<AWS::Region>", "account": "<AWS::AccountId>"}
    return {f"AwsSolutions-IAM5[Resource::{r}]" for s in diagnosis_statements() for r in s.resolved(**names)}


def test_a_stack_bound_to_an_account_and_region_also_passes_cdk_nag(tmp_path, monkeypatch):
    # `cdk synth` with credentials binds the stack to a concrete environment, which changes how
    # cdk-nag names resources; the acknowledgements must still match.
    from tests.infra.conftest import synth

    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    app, stack = synth(tmp_path)
    app.synth()  # raises on an unacknowledged finding
    assert stack.region == "eu-west-1"


def test_outputs_name_what_an_operator_looks_for_after_a_deploy(template: Template):
    outputs = template.to_json()["Outputs"]
    assert set(outputs) == {
        "AlertsTopicArn",
        "EventsQueueUrl",
        "EventsDlqUrl",
        "DeliveryDlqUrl",
        "EventsFunctionName",
        "DiagnoseFunctionName",
        "StateTableName",
        "DashboardUrl",
        "LifecycleHookFunctionArn",
        "LifecycleHookRoleArn",
        "KillSwitchParameter",
    }
    assert outputs["AlertsTopicArn"]["Value"] == {"Ref": _logical_id(template, "AWS::SNS::Topic", "AlertsTopic")}
    assert outputs["EventsQueueUrl"]["Value"] == {"Ref": _logical_id(template, "AWS::SQS::Queue", "IngestEventsQueue")}
    assert outputs["EventsDlqUrl"]["Value"] == {"Ref": _logical_id(template, "AWS::SQS::Queue", "IngestEventsDlq")}
    assert outputs["DeliveryDlqUrl"]["Value"] == {"Ref": _logical_id(template, "AWS::SQS::Queue", "IngestDeliveryDlq")}
    assert outputs["EventsFunctionName"]["Value"] == {
        "Ref": _logical_id(template, "AWS::Lambda::Function", "FunctionsEventsFunction")
    }
    assert outputs["StateTableName"]["Value"] == {"Ref": _logical_id(template, "AWS::DynamoDB::Table", "StateTable")}
    assert all(output["Description"] for output in outputs.values())


def test_dashboard_url_opens_the_dashboard_in_the_stacks_region(template: Template):
    (_, parts) = template.to_json()["Outputs"]["DashboardUrl"]["Value"]["Fn::Join"]
    mapping_id = parts[1]["Fn::FindInMap"][0]
    assert template.to_json()["Mappings"][mapping_id]["aws"] == {"host": "console.aws.amazon.com"}
    assert parts == [
        "https://",
        {"Fn::FindInMap": [mapping_id, {"Ref": "AWS::Partition"}, "host"]},
        "/cloudwatch/home?region=",
        {"Ref": "AWS::Region"},
        "#dashboards/dashboard/",
        {"Ref": _logical_id(template, "AWS::CloudWatch::Dashboard", "HealthDashboard")},
    ]


def test_dashboard_url_of_a_stack_bound_to_a_region_names_that_region(configured_template: Template):
    value = configured_template.to_json()["Outputs"]["DashboardUrl"]["Value"]
    assert "/cloudwatch/home?region=eu-west-1#dashboards/dashboard/" in json.dumps(value)


def _tags_of(resource: dict) -> dict[str, str]:
    tags = resource.get("Properties", {}).get("Tags", {})
    # Most resources take a list of Key/Value pairs; a few (SSM, ...) take a plain map.
    return {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)


# Every resource type in the template that CloudFormation lets us tag.
TAGGABLE = {
    "AWS::Lambda::Function",
    "AWS::SQS::Queue",
    "AWS::DynamoDB::Table",
    "AWS::SNS::Topic",
    "AWS::KMS::Key",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventSourceMapping",
    "AWS::SSM::Parameter",
}


def test_every_taggable_resource_carries_the_app_tag(template: Template):
    resources = template.to_json()["Resources"].values()
    assert {r["Type"] for r in resources} >= TAGGABLE
    for resource in resources:
        if resource["Type"] in TAGGABLE:
            assert _tags_of(resource) == {"app": "ecs-watchdog"}, resource["Type"]


def test_extra_tags_from_context_join_the_app_tag(configured_template: Template):
    for resource in configured_template.to_json()["Resources"].values():
        if resource["Type"] in TAGGABLE:
            assert _tags_of(resource) == {"app": "ecs-watchdog", "team": "platform", "cost-center": "42"}


def test_a_slack_key_in_another_region_than_the_stack_is_refused(tmp_path, monkeypatch):
    from infra.config import ConfigError
    from tests.infra.conftest import synth

    monkeypatch.setenv("CDK_DEFAULT_ACCOUNT", "123456789012")
    monkeypatch.setenv("CDK_DEFAULT_REGION", "us-east-1")
    with pytest.raises(ConfigError, match="the key is in eu-west-1, the stack deploys to us-east-1"):
        synth(
            tmp_path,
            {"watchdog:slack_secret_name": "team/slack", "watchdog:slack_secret_kms_key_arn": SLACK_KEY_ARN},
        )


def test_slack_bot_mode_reads_its_token_and_updates_only_living_message_items(tmp_path):
    from tests.infra.conftest import synth

    _, stack = synth(tmp_path, {"watchdog:slack_bot_secret_name": "team/slack-bot", "watchdog:slack_channel": "#ops"})
    template = Template.from_stack(stack)
    by_sid = {s.get("Sid"): s for s in _events_role_statements(template)}
    assert by_sid["ReadSlackBotToken"]["Action"] == "secretsmanager:GetSecretValue"
    assert "team/slack-bot-??????" in json.dumps(by_sid["ReadSlackBotToken"]["Resource"])
    assert by_sid["RecordSlackThreadReplies"]["Action"] == "dynamodb:UpdateItem"
    assert by_sid["RecordSlackThreadReplies"]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SLACKMSG#*"]}
    }
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like({"SLACK_BOT_SECRET_NAME": "team/slack-bot", "SLACK_CHANNEL": "#ops"})
            }
        },
    )


def test_only_the_watchdogs_rules_and_its_own_role_may_send_to_the_events_queue(template: Template):
    (policy,) = [
        p
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if "IngestEventsQueue" in json.dumps(p["Properties"]["Queues"])
        and "Dlq" not in json.dumps(p["Properties"]["Queues"])
    ]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (deny,) = [s for s in statements if s["Effect"] == "Deny" and s["Action"] == "sqs:SendMessage"]
    assert deny["Principal"] == {"AWS": "*"}
    sources = json.dumps(deny["Condition"]["ArnNotEquals"]["aws:SourceArn"])
    # Every rule that targets the queue is let through; one left out would have its deliveries denied.
    queue_rules = [
        logical_id
        for logical_id, rule in template.find_resources("AWS::Events::Rule").items()
        if "IngestEventsQueue" in json.dumps(rule["Properties"].get("Targets", []))
    ]
    assert len(queue_rules) >= 6 and all(f'"{logical_id}"' in sources for logical_id in queue_rules), queue_rules
    assert "FunctionsEventsRole" in json.dumps(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])


def test_ecs_may_assume_the_hook_role_only_for_this_account(template: Template):
    (role,) = [r for k, r in template.find_resources("AWS::IAM::Role").items() if "LifecycleHookInvokeRole" in k]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_every_role_takes_a_permissions_boundary_from_the_cdk_context(tmp_path: Path):
    # docs/security.md: `-c @aws-cdk/core:permissionsBoundary='{"name": "..."}'`, CDK's own key.
    from tests.infra.conftest import synth_template

    bounded = synth_template(tmp_path, {"@aws-cdk/core:permissionsBoundary": {"name": "platform-boundary"}})
    roles = bounded.find_resources("AWS::IAM::Role")
    assert roles and all(
        "platform-boundary" in json.dumps(r["Properties"].get("PermissionsBoundary")) for r in roles.values()
    )
