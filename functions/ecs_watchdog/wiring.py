"""Build the pipeline's adapters from the function's environment, once per cold start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.announce.channels import channels_of
from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.aws.ecs import Services, TaskDefinitions
from ecs_watchdog.aws.parking import ParkedRecords
from ecs_watchdog.aws.slack import SlackUnavailable, SlackWebhook
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.intake import Count, Intake
from ecs_watchdog.metering import CountedChannel
from ecs_watchdog.pipeline import Pipeline, utc_now

# Environment variable → Settings field (infra/functions.py sets them from CDK context).
ENVIRONMENT = {
    "ALERTS_TOPIC_ARN": "topic_arn",
    "STATE_TABLE_NAME": "state_table_name",
    "SLACK_SECRET_NAME": "slack_secret_name",
    "RUNBOOK_BASE_URL": "runbook_base_url",
    "FAILURE_THRESHOLD": "failure_threshold",
    "CRASH_LOOP_WINDOW_MINUTES": "crash_loop_window_minutes",
    "STUCK_DEPLOYMENT_MINUTES": "stuck_deployment_minutes",
    "CORRELATED_SERVICES": "correlated_services",
    "CORRELATION_WINDOW_MINUTES": "correlation_window_minutes",
    "WATCHDOG_LEASE_SECONDS": "lease_seconds",
    "PARKED_RECORDS_QUEUE_URL": "parked_records_queue_url",
}


class Settings(BaseModel):
    """The environment a watchdog function runs with, validated at cold start."""

    model_config = ConfigDict(frozen=True)

    topic_arn: str = Field(min_length=1)
    state_table_name: str = Field(min_length=1)
    slack_secret_name: str | None = None
    runbook_base_url: str | None = None
    failure_threshold: int = Field(default=3, ge=1, le=1000)
    crash_loop_window_minutes: int = Field(default=15, ge=1, le=1440)
    stuck_deployment_minutes: int = Field(default=30, ge=1, le=10080)
    correlated_services: int = Field(default=5, ge=2, le=1000)
    correlation_window_minutes: int = Field(default=10, ge=1, le=1440)
    # How long an invocation owns the delivery of what it stored: longer than the function can run.
    lease_seconds: int = Field(default=90, ge=1, le=43200)
    parked_records_queue_url: str | None = None  # the events DLQ: records that can never succeed go there

    @property
    def home(self) -> tuple[str, str] | None:
        """The account and region this watchdog watches: those of its own alerts topic."""
        parts = self.topic_arn.split(":")
        return (parts[4], parts[3]) if len(parts) >= 6 and parts[0] == "arn" else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; a missing or bad variable fails loudly, naming it."""
        env = os.environ if environ is None else environ
        values = {field: env[name] for name, field in ENVIRONMENT.items() if env.get(name)}
        values.setdefault("topic_arn", "")
        values.setdefault("state_table_name", "")
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            by_field = {field: name for name, field in ENVIRONMENT.items()}
            bad = ", ".join(by_field.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors())
            raise RuntimeError(f"ecs-watchdog is misconfigured: check environment variable(s) {bad}") from error

    def policy(self) -> LoopPolicy:
        return LoopPolicy(
            failure_threshold=self.failure_threshold,
            crash_loop_window=timedelta(minutes=self.crash_loop_window_minutes),
            stuck_deployment_after=timedelta(minutes=self.stuck_deployment_minutes),
            correlated_services=self.correlated_services,
            correlation_window=timedelta(minutes=self.correlation_window_minutes),
        )


def build_pipeline(settings: Settings, session: boto3.Session | None = None, count: Count | None = None) -> Pipeline:
    """Adapters over one boto3 session (the simulator passes its own; Lambda uses the default); with
    `count`, each channel counts what it sends (metering.CountedChannel)."""
    session = session or boto3.Session()
    ecs = session.client("ecs")
    slack = None
    if settings.slack_secret_name:
        slack = SlackWebhook.from_secret(session.client("secretsmanager"), settings.slack_secret_name)
    channels = channels_of(
        SnsTopic(session.client("sns"), settings.topic_arn),
        slack,
        settings.runbook_base_url,
        slack_unavailable=(SlackUnavailable,),
    )
    if count is not None:
        channels = [CountedChannel(channel, count) for channel in channels]
    return Pipeline(
        state=StateTable(session.client("dynamodb"), settings.state_table_name),
        services=Services(ecs),
        outbox=Outbox(channels, clock=utc_now, lease=timedelta(seconds=settings.lease_seconds)),
        policy=settings.policy(),
        essential_containers=TaskDefinitions(ecs).essential_containers,
        home=settings.home,
    )


def build_intake(
    settings: Settings,
    session: boto3.Session | None = None,
    count: Count | None = None,
    correlate: Callable[[str], None] | None = None,
) -> Intake:
    """The pipeline plus where never-succeeding records are parked (the events DLQ, when configured)."""
    session = session or boto3.Session()
    parking = None
    if settings.parked_records_queue_url:
        parking = ParkedRecords(session.client("sqs"), settings.parked_records_queue_url)
    return Intake(
        build_pipeline(settings, session, count),
        parking,
        count or (lambda name, value: None),
        correlate or (lambda event_id: None),
    )
