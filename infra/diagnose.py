"""The diagnose function: read-only probes of one service, asked from the Lambda console."""

from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from ecs_watchdog.diagnose.permissions import diagnosis_statements
from infra.alerts import Alerts
from infra.config import WatchdogConfig
from infra.functions import watchdog_function

# Probes run in parallel, each bounded by its client's timeouts (2 s connect, 5 s read, 2 attempts).
DIAGNOSE_TIMEOUT = Duration.seconds(60)


class DiagnoseFunction(Construct):
    """The function, its log group and a role that may only read what the probes read, and post the report."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: WatchdogConfig, alerts: Alerts, code: lambda_.Code
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {
            "ALERTS_TOPIC_ARN": alerts.topic.topic_arn,
            "SLACK_SECRET_NAME": config.slack_secret_name,
            "RUNBOOK_BASE_URL": config.runbook_base_url,
            "PROBE_READ_SECRET_VALUES": "true" if config.probe_read_secret_values else "false",
            "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        self.function, self.role, self.log_group = watchdog_function(
            self,
            "Diagnose",
            config=config,
            code=code,
            handler="ecs_watchdog.handlers.diagnose.handler",
            description="ecs-watchdog: diagnose one ECS service with read-only probes (console test events)",
            role_description="ecs-watchdog diagnose function (read-only probes)",
            memory_size=512,
            timeout=DIAGNOSE_TIMEOUT,
            environment=environment,
        )
        self._grant_least_privilege(config, alerts)

    def _grant_least_privilege(self, config: WatchdogConfig, alerts: Alerts) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        # The same statements docs/diagnose.md publishes for the CLI (one source of truth).
        for statement in diagnosis_statements(read_secret_values=config.probe_read_secret_values):
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid=statement.sid,
                    actions=list(statement.actions),
                    resources=list(statement.resolved(Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID)),
                )
            )
        self.role.add_to_policy(
            iam.PolicyStatement(sid="PostReport", actions=["sns:Publish"], resources=[alerts.topic.topic_arn])
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="EncryptReport", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alerts.key.key_arn]
            )
        )
        if alerts.slack_secret is not None:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="ReadSlackWebhook",
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[f"{alerts.slack_secret.secret_arn}-??????"],
                )
            )
        if config.slack_secret_kms_key_arn:
            self.role.add_to_policy(
                iam.PolicyStatement(
                    sid="DecryptSlackWebhook",
                    actions=["kms:Decrypt"],
                    resources=[config.slack_secret_kms_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{Aws.REGION}.{Aws.URL_SUFFIX}"}},
                )
            )
