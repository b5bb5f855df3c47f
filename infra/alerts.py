"""Where people hear from the watchdog: an encrypted SNS topic (email) and the Slack secret."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import ConfigError, WatchdogConfig, kms_key_region


class Alerts(Construct):
    """The alerts topic under a customer-managed key, and a reference to the Slack webhook secret.

    A customer-managed key because CloudWatch alarms cannot publish to a topic under the AWS-managed
    `alias/aws/sns` key. The Slack secret is referenced, never created: its value (the webhook URL)
    must not pass through the template.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: WatchdogConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "TopicKey",
            description="ecs-watchdog alerts topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Only this account's alarms: without the condition, CloudWatch acting for any account could use it.
        this_account = {"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarmsToPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions=this_account,
            )
        )
        self.topic = sns.Topic(self, "Topic", display_name="ecs-watchdog alerts", master_key=self.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=this_account,
            )
        )
        for email in config.alert_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

        self.slack_secret: secretsmanager.ISecret | None = None
        if config.slack_secret_name:
            self.slack_secret = secretsmanager.Secret.from_secret_name_v2(
                self, "SlackWebhook", config.slack_secret_name
            )


def notification_statements(
    scope: Construct, config: WatchdogConfig, alerts: Alerts, state_table_arn: str
) -> list[iam.PolicyStatement]:
    """What a function that announces needs: publish to the alerts topic (under its key), read the Slack
    webhook or bot token (through Secrets Manager only, when under a customer-managed key), and record
    thread replies of the bot's living messages (UpdateItem on SLACKMSG# items only)."""
    statements = [
        iam.PolicyStatement(sid="PublishAlerts", actions=["sns:Publish"], resources=[alerts.topic.topic_arn]),
        iam.PolicyStatement(
            sid="EncryptAlerts", actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[alerts.key.key_arn]
        ),
    ]
    if alerts.slack_secret is not None:
        statements.append(
            iam.PolicyStatement(
                sid="ReadSlackWebhook",
                actions=["secretsmanager:GetSecretValue"],
                # A secret referenced by name has a partial ARN; the real one ends in Secrets Manager's
                # random six-character suffix, which IAM must match.
                resources=[f"{alerts.slack_secret.secret_arn}-??????"],
            )
        )
    if config.slack_bot_secret_name:
        bot_secret = secretsmanager.Secret.from_secret_name_v2(scope, "SlackBotToken", config.slack_bot_secret_name)
        statements += [
            iam.PolicyStatement(
                sid="ReadSlackBotToken",
                actions=["secretsmanager:GetSecretValue"],
                resources=[f"{bot_secret.secret_arn}-??????"],
            ),
            iam.PolicyStatement(
                sid="RecordSlackThreadReplies",
                # ADD to the living message's reply set; only on SLACKMSG# items, never on service state.
                actions=["dynamodb:UpdateItem"],
                resources=[state_table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SLACKMSG#*"]}},
            ),
        ]
    if config.pagerduty_secret_name:
        routing_key = secretsmanager.Secret.from_secret_name_v2(
            scope, "PagerDutyRoutingKey", config.pagerduty_secret_name
        )
        statements.append(
            iam.PolicyStatement(
                sid="ReadPagerDutyRoutingKey",
                actions=["secretsmanager:GetSecretValue"],
                resources=[f"{routing_key.secret_arn}-??????"],
            )
        )
    if config.slack_secret_kms_key_arn:
        statements.append(_decrypt_slack_secret(scope, config.slack_secret_kms_key_arn))
    return statements


def _decrypt_slack_secret(scope: Construct, key_arn: str) -> iam.PolicyStatement:
    """kms:Decrypt on the Slack secret's customer-managed key, and only through Secrets Manager."""
    stack = Stack.of(scope)
    region = stack.region
    # A secret and its key live in one region; a key elsewhere would deploy and fail on the first message.
    if not Token.is_unresolved(region) and kms_key_region(key_arn) != region:
        raise ConfigError(
            f"watchdog:slack_secret_kms_key_arn: the key is in {kms_key_region(key_arn)}, "
            f"the stack deploys to {region}; the Slack secret's key must be in the stack's region"
        )
    return iam.PolicyStatement(
        sid="DecryptSlackWebhook",
        actions=["kms:Decrypt"],
        resources=[key_arn],
        # url_suffix: amazonaws.com, or amazonaws.com.cn in the China partition.
        conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.{stack.url_suffix}"}},
    )
