"""Build the pipeline's adapters from the function's environment, once per cold start."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.announce.channels import SlackBotChannel, channels_of
from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.aws.api_error_store import ApiErrorStore
from ecs_watchdog.aws.audit import AuditEvents
from ecs_watchdog.aws.diagnosis import diagnose_service
from ecs_watchdog.aws.ecs import Services, TaskDefinitions
from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.ecs_inventory import SWEEP_CLIENT_CONFIG, EcsInventory
from ecs_watchdog.aws.kill_switch import KillSwitch
from ecs_watchdog.aws.parking import ParkedRecords
from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.recheck import Rechecks
from ecs_watchdog.aws.slack import SlackUnavailable, SlackWebhook
from ecs_watchdog.aws.slack_bot import SlackBot, SlackMessageGone
from ecs_watchdog.aws.slack_messages import SlackMessages
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.aws.sweep_cursor import SweepCursorItem
from ecs_watchdog.contain.models import ContainmentPolicy, Mode
from ecs_watchdog.containment import Containment
from ecs_watchdog.gate.pause import DeploymentGate
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.intake import Count, Intake
from ecs_watchdog.metering import CountedChannel
from ecs_watchdog.pipeline import Pipeline, utc_now
from ecs_watchdog.probing import CauseProbe
from ecs_watchdog.sweep import Sweep

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
    "WATCHDOG_MODE": "mode",
    "CONTAINMENT_COOLDOWN_MINUTES": "cooldown_minutes",
    "CONTAINMENT_MAX_ACTIONS_PER_HOUR": "max_actions_per_hour",
    "KILL_SWITCH_PARAMETER": "kill_switch_parameter",
    "AUDIT_EVENT_BUS": "audit_event_bus",
    "RECHECK_QUEUE_URL": "recheck_queue_url",
    "PARKED_RECORDS_QUEUE_URL": "parked_records_queue_url",
    "SLACK_BOT_SECRET_NAME": "slack_bot_secret_name",
    "SLACK_CHANNEL": "slack_channel",
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
    mode: Mode = Mode.DRY_RUN  # notify | dry-run | enforce (the account's ceiling; tags only lower it)
    cooldown_minutes: int = Field(default=30, ge=1, le=1440)
    max_actions_per_hour: int = Field(default=10, ge=1, le=1000)
    kill_switch_parameter: str | None = None  # SSM parameter: "on" stops every action without a redeploy
    audit_event_bus: str = "default"
    recheck_queue_url: str | None = None  # the events queue: undecided hooks come back to it, delayed

    def containment_policy(self) -> ContainmentPolicy:
        return ContainmentPolicy(
            mode=Mode(self.mode),
            cooldown=timedelta(minutes=self.cooldown_minutes),
            hourly_cap=self.max_actions_per_hour,
        )

    slack_bot_secret_name: str | None = None  # bot mode: one living message per incident (needs slack_channel)
    slack_channel: str | None = None

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


def build_pipeline(
    settings: Settings,
    session: boto3.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
    count: Count | None = None,
) -> Pipeline:
    """Adapters over one boto3 session (the simulator passes its own, and its simulated clock); with
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
    if settings.slack_bot_secret_name and settings.slack_channel:
        # Bot mode edits one message per incident; it replaces the webhook (both would say everything twice).
        channels = [c for c in channels if c.name != "slack"] + [slack_bot_channel(settings, session)]
    if count is not None:
        channels = [CountedChannel(channel, count) for channel in channels]
    return Pipeline(
        state=StateTable(session.client("dynamodb"), settings.state_table_name),
        services=Services(ecs),
        outbox=Outbox(channels, clock=clock, lease=timedelta(seconds=settings.lease_seconds)),
        policy=settings.policy(),
        essential_containers=TaskDefinitions(ecs).essential_containers,
        home=settings.home,
        containment=build_containment(settings, session),
        probe_confirms=build_cause_probe(session),
        gate=build_gate(settings, session),
        api_errors=ApiErrorStore(session.client("dynamodb"), settings.state_table_name),
    )


def build_cause_probe(session: boto3.Session) -> CauseProbe:
    """The probes that confirm deterministic causes, over their own clients (short timeouts)."""
    clients = ProbeClients(session)
    return CauseProbe(lambda cluster, service, probes: diagnose_service(clients, cluster, service, probes=probes))


def build_gate(settings: Settings, session: boto3.Session) -> DeploymentGate | None:
    """The deployment gate's adapters; None in notify mode."""
    if Mode(settings.mode) is Mode.NOTIFY:
        return None
    actions = EcsActions(session.client("ecs"), session.client("application-autoscaling"))
    rechecks = Rechecks(session.client("sqs"), settings.recheck_queue_url) if settings.recheck_queue_url else None
    return DeploymentGate(actions, Mode(settings.mode), rechecks)


def build_containment(settings: Settings, session: boto3.Session) -> Containment | None:
    """Containment's adapters; None in notify mode (the watchdog then only tells people)."""
    if Mode(settings.mode) is Mode.NOTIFY:
        return None
    return Containment(
        actions=EcsActions(
            session.client("ecs"),
            session.client("application-autoscaling"),
            dry_run=Mode(settings.mode) is not Mode.ENFORCE,  # Mode(): a copied Settings may hold a str
        ),
        policy=settings.containment_policy(),
        kill_switch=KillSwitch(session.client("ssm"), settings.kill_switch_parameter)
        if settings.kill_switch_parameter
        else None,
        audit=AuditEvents(session.client("events"), settings.audit_event_bus),
    )


def slack_bot_channel(settings: Settings, session: boto3.Session) -> SlackBotChannel:
    """Slack in bot mode: the token from its secret, living messages kept in the state table."""
    bot = SlackBot.from_secret(
        session.client("secretsmanager"), str(settings.slack_bot_secret_name), str(settings.slack_channel)
    )
    return SlackBotChannel(
        bot,
        SlackMessages(session.client("dynamodb"), settings.state_table_name),
        settings.runbook_base_url,
        unavailable=(SlackUnavailable,),
        gone=(SlackMessageGone,),
    )


def build_intake(
    settings: Settings,
    session: boto3.Session | None = None,
    count: Count | None = None,
    correlate: Callable[[str], None] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Intake:
    """The pipeline plus where never-succeeding records are parked (the events DLQ, when configured)."""
    session = session or boto3.Session()
    parking = None
    if settings.parked_records_queue_url:
        parking = ParkedRecords(session.client("sqs"), settings.parked_records_queue_url)
    return Intake(
        build_pipeline(settings, session, clock, count),
        parking,
        count or (lambda name, value: None),
        correlate or (lambda event_id: None),
    )


class SweepLimits(BaseModel):
    """How much one sweep run may do (infra/sweep.py sets them below the function's timeout)."""

    model_config = ConfigDict(frozen=True)

    max_services: int = Field(default=500, ge=1, le=100000)
    budget_seconds: float = Field(default=45.0, gt=0, le=900)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> SweepLimits:
        """SWEEP_MAX_SERVICES and SWEEP_BUDGET_SECONDS; defaults when unset."""
        env = os.environ if environ is None else environ
        names = {"SWEEP_MAX_SERVICES": "max_services", "SWEEP_BUDGET_SECONDS": "budget_seconds"}
        try:
            return cls.model_validate({field: env[name] for name, field in names.items() if env.get(name)})
        except ValidationError as error:
            raise RuntimeError(f"ecs-watchdog sweep is misconfigured: {error.errors()[0]['loc']}") from error


def build_sweep(settings: Settings, limits: SweepLimits, session: boto3.Session | None = None) -> Sweep:
    """The sweep over the same pipeline the events function uses, with throttling-aware ECS clients.

    It never contains nor answers hooks: its role may not act, and a decision it recorded (in its own
    mode) would stand in for the events function's. An incident it opens is contained on the service's
    next event, by the events function."""
    session = session or boto3.Session()
    pipeline = dataclasses.replace(build_pipeline(settings, session), containment=None, gate=None)
    dynamodb = session.client("dynamodb")
    table = StateTable(dynamodb, settings.state_table_name)
    return Sweep(
        inventory=EcsInventory(session.client("ecs", config=SWEEP_CLIENT_CONFIG)),
        watched=table,
        cursors=SweepCursorItem(dynamodb, settings.state_table_name),
        process=pipeline.process,
        tick=pipeline.tick,
        policy=settings.policy(),
        clock=utc_now,
        budget_seconds=limits.budget_seconds,
        max_services=limits.max_services,
    )
