"""The Slack interactivity function: the Request URL Slack posts button presses to (a Lambda Function URL).

The URL's auth type is NONE: Slack cannot sign a request with SigV4, and anyone may reach the URL. The
authentication is Slack's own request signature, checked by the function before anything else runs
(HMAC-SHA256 with the app's signing secret, timestamps more than 5 minutes away refused: a 401 costs a
few milliseconds). Invocations are synchronous, so there is nothing for a dead-letter queue to hold: a
failure is Slack's error shown to the person who clicked, and logged here.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.alerts import Alerts
from infra.config import WatchdogConfig
from infra.functions import pipeline_environment, watchdog_function
from infra.state import StateTable

# Slack waits 3 s for the HTTP answer; the reply to the clicker goes to response_url (valid 30 minutes),
# so a slow desk still reaches them within the function's time.
INTERACTIONS_TIMEOUT = Duration.seconds(15)


def desk_statements(config: WatchdogConfig, state: StateTable) -> list[iam.PolicyStatement]:
    """The grants of the click desk (flow/approvals.py): what it reads and writes to carry a click out —
    the state table's items, the audit bus, the kill switch, and the ECS writes the mode allows, as the
    events function's containment. Each is added with the desk and the authorization run that reaches it
    (tests/authz/runs.py): a grant no recorded call uses fails the contract."""
    return []


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
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        environment = {
            # The desk reads the events function's settings (wiring/settings.py): the same names and values.
            **pipeline_environment(config, alerts, state),
            "RUNBOOK_BASE_URL": config.runbook_base_url,
            "WATCHDOG_MODE": config.mode,
            "CONTAINMENT_COOLDOWN_MINUTES": str(config.cooldown_minutes),
            "CONTAINMENT_MAX_ACTIONS_PER_HOUR": str(config.max_actions_per_hour),
            "KILL_SWITCH_PARAMETER": config.kill_switch_parameter,
            "AUDIT_EVENT_BUS": "default",
            "WATCHDOG_SLACK_SIGNING_SECRET_NAME": config.slack_signing_secret_name,
            "WATCHDOG_SLACK_ALLOWED_USERS": ",".join(config.slack_allowed_users),
            "WATCHDOG_SLACK_ALLOWED_USERGROUP": config.slack_allowed_usergroup,
            "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
            "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
            "POWERTOOLS_LOG_LEVEL": "INFO",
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
        self._grant_least_privilege(config, state)

    def _grant_least_privilege(self, config: WatchdogConfig, state: StateTable) -> None:
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
        for statement in desk_statements(config, state):
            self.role.add_to_policy(statement)
