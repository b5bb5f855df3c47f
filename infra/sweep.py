"""The scheduled sweep: a function EventBridge Scheduler invokes every `watchdog:sweep_minutes`.

It reads every cluster and service (ECS list/describe), ticks the timers of the services the state
table's sparse index names, and announces through the same pipeline as the events function.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from constructs import Construct

from infra.alerts import Alerts, notification_statements
from infra.bundling import function_code
from infra.config import WatchdogConfig
from infra.functions import LEASE_MARGIN, pipeline_environment, watchdog_function
from infra.state import StateTable

SWEEP_TIMEOUT = Duration.seconds(120)
SWEEP_BUDGET_SECONDS = 90  # the run stops itself well before the timeout and saves its cursor
SWEEP_MAX_SERVICES = 1000  # per run; ~50 ECS calls per 200 services (docs/sweep.md), the rest resumes


class SweepFunction(Construct):
    """The sweep function, its schedule, its log group and its least-privilege role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        alerts: Alerts,
        state: StateTable,
        code: lambda_.Code | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function, self.role, self.log_group = watchdog_function(
            self,
            "Sweep",
            config=config,
            code=code or function_code(),
            handler="ecs_watchdog.handlers.sweep.handler",
            description="ecs-watchdog: sweep every ECS service; run the timers of quiet ones",
            role_description="ecs-watchdog sweep",
            memory_size=512,
            timeout=SWEEP_TIMEOUT,
            environment={
                **pipeline_environment(config, alerts, state),  # count updates go to the living message too
                "WATCHDOG_LEASE_SECONDS": str(int(SWEEP_TIMEOUT.to_seconds() + LEASE_MARGIN.to_seconds())),
                "RUNBOOK_BASE_URL": config.runbook_base_url,
                "SWEEP_MAX_SERVICES": str(SWEEP_MAX_SERVICES),
                "SWEEP_BUDGET_SECONDS": str(SWEEP_BUDGET_SECONDS),
                "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
                "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        self.schedule_role = iam.Role(
            self,
            "SweepScheduleRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
            description="ecs-watchdog: EventBridge Scheduler invokes the sweep",
        )
        self.schedule = scheduler.Schedule(
            self,
            "SweepSchedule",
            description="ecs-watchdog: sweep every ECS service",
            schedule=scheduler.ScheduleExpression.rate(Duration.minutes(config.sweep_minutes)),
            # A missed run is not retried: the next one starts from the saved cursor anyway.
            target=scheduler_targets.LambdaInvoke(
                self.function, retry_attempts=0, max_event_age=Duration.minutes(5), role=self.schedule_role
            ),
        )
        self._grant_least_privilege(config, alerts, state)

    def _grant_least_privilege(self, config: WatchdogConfig, alerts: Alerts, state: StateTable) -> None:
        stack = Stack.of(self)
        statements = [
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ListClustersAndServices",
                # Neither action supports resource-level permissions (IAM service reference): "*" only.
                actions=["ecs:ListClusters", "ecs:ListServices"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="DescribeServices",
                # ListTagsForResource: the pipeline describes a flagged service with include=TAGS.
                actions=["ecs:DescribeServices", "ecs:ListTagsForResource"],
                resources=[stack.format_arn(service="ecs", resource="service", resource_name="*")],
            ),
            iam.PolicyStatement(
                sid="ReadWriteOwnState",
                actions=["dynamodb:GetItem", "dynamodb:PutItem"],
                resources=[state.table.table_arn],
            ),
            iam.PolicyStatement(
                sid="QueryWatchedServices", actions=["dynamodb:Query"], resources=[state.watch_index_arn]
            ),
            *notification_statements(self, config, alerts, state.table.table_arn),
        ]
        for statement in statements:
            self.role.add_to_policy(statement)
