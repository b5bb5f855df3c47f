"""The Slack interactivity function: the Request URL Slack posts button presses to (a Lambda Function URL).

The URL's auth type is NONE: Slack cannot sign a request with SigV4, and anyone may reach the URL. The
authentication is Slack's own request signature, checked by the function before anything else runs
(HMAC-SHA256 with the app's signing secret, timestamps more than 5 minutes away refused: a 401 costs a
few milliseconds). Invocations are synchronous, so there is nothing for a dead-letter queue to hold: a
failure is Slack's error shown to the person who clicked, and logged here.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.alerts import Alerts, notification_statements
from infra.config import WatchdogConfig
from infra.containment import enforce_statements
from infra.functions import AUDIT_EVENT_BUS, containment_environment, pipeline_environment, watchdog_function
from infra.state import StateTable

# Slack waits 3 s for the HTTP answer; the reply to the clicker goes to response_url (valid 30 minutes),
# so a slow desk still reaches them within the function's time.
INTERACTIONS_TIMEOUT = Duration.seconds(15)
# Where the desk carries approvals and Undo out (wiring/approvals.py: its ECS adapter acts from approve up).
ACTING_MODES = ("approve", "enforce")


def desk_statements(
    scope: Construct, config: WatchdogConfig, alerts: Alerts, state: StateTable, kill_switch: ssm.IStringParameter
) -> list[iam.PolicyStatement]:
    """The grants of the click desk (flow/approvals.py), exactly what its runs reach (tests/authz/runs.py).

    In every mode: the incident's item (GetItem; PutItem for acknowledge, silence and the claim), the click's
    audit event, and the bot's token to edit the living message. Where the desk acts — approve and enforce
    (an approval, an Undo) — containment's own path besides: the service reads the events function makes
    before acting, the kill switch, the writes `enforce_statements` grants the enforce role, and the
    announcements of what was done (SNS under its key, Slack, PagerDuty; thread replies on SLACKMSG# items).
    In notify and dry-run the desk acts on nothing: an approval is refused before any ECS call."""
    stack = Stack.of(scope)
    services = stack.format_arn(service="ecs", resource="service", resource_name="*")
    statements = [
        iam.PolicyStatement(
            sid="ReadWriteOwnState",
            # Whole-item reads and conditional puts: the state adapter needs nothing else.
            actions=["dynamodb:GetItem", "dynamodb:PutItem"],
            resources=[state.table.table_arn],
        ),
        iam.PolicyStatement(
            sid="EmitClickAuditEvents",
            actions=["events:PutEvents"],
            resources=[stack.format_arn(service="events", resource="event-bus", resource_name=AUDIT_EVENT_BUS)],
        ),
    ]
    announcing = notification_statements(scope, config, alerts, state.table.table_arn)
    if config.mode not in ACTING_MODES:
        return statements + [s for s in announcing if s.sid == "ReadSlackBotToken"]
    deployments = stack.format_arn(service="ecs", resource="service-deployment", resource_name="*")
    return [
        *statements,
        *announcing,
        iam.PolicyStatement(
            sid="ReadServices",
            # ListTagsForResource: DescribeServices is called with include=TAGS (the service's opt-out tag).
            actions=["ecs:DescribeServices", "ecs:ListTagsForResource", "ecs:ListServiceDeployments"],
            resources=[services],
        ),
        iam.PolicyStatement(
            sid="DescribeTaskDefinitionsAndScalableTargets",
            # Neither supports resource-level permissions: "*" is the only option. The task definition is the
            # rollback's target (its roles are passed); the scalable target, the scaling a scale to zero suspends.
            actions=["ecs:DescribeTaskDefinition", "application-autoscaling:DescribeScalableTargets"],
            resources=["*"],
        ),
        iam.PolicyStatement(sid="ReadKillSwitch", actions=["ssm:GetParameter"], resources=[kill_switch.parameter_arn]),
        *enforce_statements(stack, services, deployments),
    ]


class SlackInteractionsFunction(Construct):
    """The function, its public Function URL, its log group and a role that may read the signing secret."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        alerts: Alerts,
        state: StateTable,
        kill_switch: ssm.IStringParameter,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        self.acts = config.mode in ACTING_MODES  # the desk's ECS adapter acts: it holds containment's writes
        environment = {
            # The desk reads the events function's settings (wiring/settings.py): the same names and values.
            **pipeline_environment(config, alerts, state),
            **containment_environment(config),
            "WATCHDOG_SLACK_SIGNING_SECRET_NAME": config.slack_signing_secret_name,
            "WATCHDOG_SLACK_ALLOWED_USERS": ",".join(config.slack_allowed_users),
            "WATCHDOG_SLACK_ALLOWED_USERGROUP": config.slack_allowed_usergroup,
        }
        self.function, self.role, self.log_group = watchdog_function(
            self,
            "SlackInteractions",
            config=config,
            code=code,
            handler="ecs_watchdog.handlers.slack_interactions.handler",
            description="ecs-watchdog: Slack's Request URL for the watchdog's buttons (signature-checked)",
            role_description="ecs-watchdog Slack interactivity function",
            memory_size=512,  # bolt, pydantic and boto3 import faster with the CPU share of 512 MB
            timeout=INTERACTIONS_TIMEOUT,
            environment=environment,
            reserved_concurrent_executions=config.slack_reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
        )
        # NONE: Slack cannot sign SigV4; the handler refuses any request without Slack's valid signature.
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        self._grant_least_privilege(config, alerts, state, kill_switch)

    def _grant_least_privilege(
        self, config: WatchdogConfig, alerts: Alerts, state: StateTable, kill_switch: ssm.IStringParameter
    ) -> None:
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        signing = secretsmanager.Secret.from_secret_name_v2(self, "SigningSecret", config.slack_signing_secret_name)
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSlackSigningSecret",
                actions=["secretsmanager:GetSecretValue"],
                # from_secret_name_v2's ARN ends at the name; Secrets Manager appends -<6 random characters>.
                resources=[f"{signing.secret_arn}-??????"],
            )
        )
        for statement in desk_statements(self, config, alerts, state, kill_switch):
            self.role.add_to_policy(statement)
