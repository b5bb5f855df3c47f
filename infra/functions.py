"""The Lambda functions: packaging, runtime settings, event sources and least-privilege IAM."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from constructs import Construct

from ecs_watchdog.diagnose.permissions import confirming_probe_statements
from infra.alerts import Alerts, notification_statements
from infra.bundling import function_code
from infra.config import LOG_RETENTION_DAYS, WatchdogConfig
from infra.ingest import Ingest
from infra.state import StateTable

RUNTIME = lambda_.Runtime.PYTHON_3_14  # newest this aws-cdk-lib knows; bundling.PYTHON_VERSION matches
TIMEOUT = Duration.seconds(60)
LEASE_MARGIN = Duration.seconds(30)
AUDIT_EVENT_BUS = "default"  # containment's audit events and the Slack clicks' (aws/audit.py)


class Functions(Construct):
    """The events function: drains the events queue, classifies stops, runs the incident engine, notifies."""

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
        self.code = code or function_code()  # one asset, shared with the diagnose function
        environment = {
            **pipeline_environment(config, alerts, state),
            # Records that can never succeed are parked here by the function itself, not retried to the DLQ.
            "PARKED_RECORDS_QUEUE_URL": ingest.dead_letter_queue.queue_url,
            # How long an invocation owns the delivery of what it stored: longer than it can run, and
            # shorter than the queue's visibility timeout, so a retried record finds the lease expired.
            "WATCHDOG_LEASE_SECONDS": str(int(TIMEOUT.to_seconds() + LEASE_MARGIN.to_seconds())),
            **containment_environment(config),
            # The deployment gate's timer: a delayed message on the events queue.
            "RECHECK_QUEUE_URL": ingest.queue.queue_url,
        }
        if config.tracing:
            environment["WATCHDOG_TRACING"] = "true"
        self.events_function, role, self.log_group = watchdog_function(
            self,
            "Events",
            config=config,
            code=self.code,
            handler="ecs_watchdog.handlers.ecs_events.handler",
            description="ecs-watchdog: classify stopped ECS tasks, track incidents, notify",
            role_description="ecs-watchdog events function",
            memory_size=512,  # pydantic + boto3 import faster with the CPU share of 512 MB
            timeout=TIMEOUT,
            environment=environment,
            # Opt-in: it keeps the watchdog running when other functions exhaust the account's concurrency,
            # but accounts with a concurrency quota of 10 refuse any reservation. The event source's
            # max_concurrency is what bounds the pressure a storm puts on Slack, SNS and the table.
            reserved_concurrent_executions=config.reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE if config.tracing else lambda_.Tracing.DISABLED,
        )
        self.events_role = role
        self.events_function.add_event_source(
            event_sources.SqsEventSource(
                ingest.queue,
                # A failure reaches the containment call within the window (docs/configuration.md): 0 by default.
                batch_size=config.batch_size,
                max_batching_window=Duration.seconds(config.batching_window_seconds),
                report_batch_item_failures=True,
                # At or below any reserved concurrency (config checks it): otherwise throttled receives
                # count against maxReceiveCount and healthy events land in the DLQ.
                max_concurrency=config.max_concurrency,
            )
        )
        self._grant_least_privilege(role, config, ingest, alerts, state)

    def _grant_least_privilege(
        self, role: iam.Role, config: WatchdogConfig, ingest: Ingest, alerts: Alerts, state: StateTable
    ) -> None:
        # Metrics go out as embedded metric format log lines: no cloudwatch:PutMetricData needed.
        role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        for statement in notification_statements(self, config, alerts, state.table.table_arn):
            role.add_to_policy(statement)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ParkUnprocessableRecords",
                # SendMessage only: the DLQ is SSE-SQS (no key grant), and its URL comes from the environment.
                actions=["sqs:SendMessage"],
                resources=[ingest.dead_letter_queue.queue_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadWriteOwnState",
                # Whole-item reads and conditional puts: the state adapter needs nothing else.
                actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                resources=[state.table.table_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeServices",
                # ListTagsForResource: DescribeServices is called with include=TAGS (threshold tag).
                actions=["ecs:DescribeServices", "ecs:ListTagsForResource"],
                resources=[Stack.of(self).format_arn(service="ecs", resource="service", resource_name="*")],
            )
        )
        stack = Stack.of(self)
        role.add_to_policy(
            iam.PolicyStatement(
                sid="NameServicesOnImpairedInstances",
                # An impaired container instance's message names the services with tasks on it: ListTasks
                # (resource type container-instance) by containerInstance, then DescribeTasks (task). The same
                # two read a failing service's tasks (contain/transient.py: transient, or nothing to wait for).
                actions=["ecs:ListTasks", "ecs:DescribeTasks"],
                resources=[
                    stack.format_arn(service="ecs", resource="container-instance", resource_name="*"),
                    stack.format_arn(service="ecs", resource="task", resource_name="*"),
                ],
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
        # A deterministic cause (image, secrets, logging) is confirmed by read-only probes (diagnose/step.py):
        # the diagnose function's statements for those probes (one source of truth, diagnose/permissions.py).
        for probe in confirming_probe_statements():
            role.add_to_policy(
                iam.PolicyStatement(
                    sid=probe.sid,
                    actions=list(probe.actions),
                    resources=list(probe.resolved(Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID)),
                )
            )


def pipeline_environment(config: WatchdogConfig, alerts: Alerts, state: StateTable) -> dict[str, str]:
    """What every function that runs the pipeline is told: where state and alerts live, the loop rules,
    the Slack secrets (names only: values never pass through the template)."""
    return {
        "ALERTS_TOPIC_ARN": alerts.topic.topic_arn,
        "STATE_TABLE_NAME": state.table.table_name,
        "FAILURE_THRESHOLD": str(config.failure_threshold),
        "CRASH_LOOP_WINDOW_MINUTES": str(config.crash_loop_window_minutes),
        "STUCK_DEPLOYMENT_MINUTES": str(config.stuck_deployment_minutes),
        "CORRELATED_SERVICES": str(config.correlated_services),
        "CORRELATION_WINDOW_MINUTES": str(config.correlation_window_minutes),
        "SLACK_SECRET_NAME": config.slack_secret_name,
        "SLACK_BOT_SECRET_NAME": config.slack_bot_secret_name,
        "SLACK_CHANNEL": config.slack_channel,
        "PAGERDUTY_SECRET_NAME": config.pagerduty_secret_name,
    }


def containment_environment(config: WatchdogConfig) -> dict[str, str]:
    """What every function that contains (or carries an approval out) is told: the mode, containment's guards
    (issue 16), how long a proposal stands, the kill switch, the audit bus, the runbooks and the logging."""
    return {
        "RUNBOOK_BASE_URL": config.runbook_base_url,
        "WATCHDOG_MODE": config.mode,
        "CONTAINMENT_COOLDOWN_MINUTES": str(config.cooldown_minutes),
        "CONTAINMENT_MAX_ACTIONS_PER_HOUR": str(config.max_actions_per_hour),
        "WATCHDOG_APPROVAL_MINUTES": str(config.approval_minutes),
        "KILL_SWITCH_PARAMETER": config.kill_switch_parameter,
        "AUDIT_EVENT_BUS": AUDIT_EVENT_BUS,
        "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
        "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


# What every function's interpreter is told. Pydantic looks for plugins by scanning the entry points of
# every installed distribution when it builds its first validator (~30 ms of a cold start); we use none.
RUNTIME_ENVIRONMENT = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}


def watchdog_function(
    scope: Construct,
    prefix: str,
    *,
    config: WatchdogConfig,
    code: lambda_.Code,
    handler: str,
    description: str,
    role_description: str,
    memory_size: int,
    timeout: Duration,
    environment: dict[str, str],
    **extra: Any,
) -> tuple[lambda_.Function, iam.Role, logs.LogGroup]:
    """One of the stack's functions: `<prefix>Logs` (retained as configured), `<prefix>Role` (policies
    added by the caller: least privilege per function) and `<prefix>Function` (arm64, JSON logs)."""
    log_group = logs.LogGroup(
        scope,
        f"{prefix}Logs",
        retention=retention_days(config.log_retention_days),
        removal_policy=RemovalPolicy.DESTROY,
    )
    role = iam.Role(
        scope, f"{prefix}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=role_description
    )
    function = lambda_.Function(
        scope,
        f"{prefix}Function",
        description=description,
        runtime=RUNTIME,
        architecture=lambda_.Architecture.ARM_64,
        handler=handler,
        code=code,
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        environment={**environment, **RUNTIME_ENVIRONMENT},
        **extra,
    )
    return function, role, log_group


def retention_days(days: int) -> logs.RetentionDays:
    """The RetentionDays member for a validated number of days (both lists are in ascending order)."""
    members = [m for m in logs.RetentionDays if m.name != "INFINITE"]
    return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[days]
