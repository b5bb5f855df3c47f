"""The Lambda functions: packaging, runtime settings, event sources and least-privilege IAM."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.alerts import Alerts
from infra.bundling import function_code
from infra.config import LOG_RETENTION_DAYS, WatchdogConfig
from infra.ingest import Ingest
from infra.state import StateTable

RUNTIME = lambda_.Runtime.PYTHON_3_14  # newest this aws-cdk-lib knows; bundling.PYTHON_VERSION matches
TIMEOUT = Duration.seconds(60)


class Functions(Construct):
    """The events function: drains the events queue, classifies stops, notifies people."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        ingest: Ingest,
        alerts: Alerts,
        state: StateTable,
        code: lambda_.Code | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "EventsLogs",
            retention=retention_days(config.log_retention_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            "EventsRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="ecs-watchdog events function",
        )
        environment = {
            "ALERTS_TOPIC_ARN": alerts.topic.topic_arn,
            "SLACK_SECRET_NAME": config.slack_secret_name,
            "RUNBOOK_BASE_URL": config.runbook_base_url,
            "WATCHDOG_MODE": config.mode,
            "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
            "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        if config.tracing:
            environment["WATCHDOG_TRACING"] = "true"
        self.events_function = lambda_.Function(
            self,
            "EventsFunction",
            description="ecs-watchdog: classify stopped ECS tasks and notify",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler="ecs_watchdog.handlers.ecs_events.handler",
            code=code or function_code(),
            memory_size=512,  # pydantic + boto3 import faster with the CPU share of 512 MB
            timeout=TIMEOUT,
            # Reserved concurrency bounds the pressure a storm puts on Slack, SNS and the table, and
            # keeps the watchdog running when other functions exhaust the account's concurrency.
            reserved_concurrent_executions=config.reserved_concurrency,
            role=role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
            environment=environment,
        )
        self.events_function.add_event_source(
            event_sources.SqsEventSource(
                ingest.queue,
                batch_size=10,
                max_batching_window=Duration.seconds(5),
                report_batch_item_failures=True,
                # At or below reserved concurrency: otherwise throttled receives count against
                # maxReceiveCount and healthy events land in the DLQ.
                max_concurrency=config.reserved_concurrency,
            )
        )
        self._grant_least_privilege(role, alerts)

    def _grant_least_privilege(self, role: iam.Role, alerts: Alerts) -> None:
        # Metrics go out as embedded metric format log lines: no cloudwatch:PutMetricData needed.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(sid="PublishAlerts", actions=["sns:Publish"], resources=[alerts.topic.topic_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptAlerts",
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=[alerts.key.key_arn],
            )
        )
        if alerts.slack_secret is not None:
            role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadSlackWebhook",
                    actions=["secretsmanager:GetSecretValue"],
                    # A secret referenced by name has a partial ARN; the real one ends in Secrets Manager's
                    # random six-character suffix, which IAM must match.
                    resources=[f"{alerts.slack_secret.secret_arn}-??????"],
                )
            )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeTaskDefinitions",
                actions=["ecs:DescribeTaskDefinition"],
                # DescribeTaskDefinition supports no resource-level permissions: "*" is the only option.
                resources=["*"],
            )
        )


def retention_days(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a validated number of days (both lists are in ascending order)."""
    members = [m for m in logs.RetentionDays if m.name != "INFINITE"]
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[days]
