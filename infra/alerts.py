"""Where people hear from the watchdog: an encrypted SNS topic (email) and the Slack secret."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.config import WatchdogConfig


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
