"""Build the events function's pipeline and intake from its settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import boto3

from ecs_watchdog.announce.channels import SlackBotChannel, channels_of
from ecs_watchdog.announce.outbox import ChannelBudget, Outbox
from ecs_watchdog.aws.api_error_store import ApiErrorStore
from ecs_watchdog.aws.audit import AuditEvents
from ecs_watchdog.aws.diagnosis import diagnose_service
from ecs_watchdog.aws.ecs import Services, TaskDefinitions
from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.hook_answers import HookAnswers
from ecs_watchdog.aws.kill_switch import KillSwitch
from ecs_watchdog.aws.parking import ParkedRecords
from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.recheck import Rechecks
from ecs_watchdog.aws.slack import SlackDown, SlackUnavailable, SlackWebhook
from ecs_watchdog.aws.slack_bot import SlackBot, SlackMessageGone
from ecs_watchdog.aws.slack_messages import SlackMessages
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.contain.step import Containment
from ecs_watchdog.diagnose.step import CauseProbe
from ecs_watchdog.flow.intake import Count, Intake
from ecs_watchdog.flow.pipeline import Pipeline, utc_now
from ecs_watchdog.gate.pause import DeploymentGate
from ecs_watchdog.metrics.metering import CountedChannel
from ecs_watchdog.wiring.settings import Settings


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
        slack_down=(SlackDown,),
    )
    worst_case = {"slack": slack.worst_case_seconds} if slack else {}
    if settings.slack_bot_secret_name and settings.slack_channel:
        # Bot mode edits one message per incident; it replaces the webhook (both would say everything twice).
        bot = SlackBot.from_secret(
            session.client("secretsmanager"), str(settings.slack_bot_secret_name), str(settings.slack_channel)
        )
        channels = [c for c in channels if c.name != "slack"] + [slack_bot_channel(settings, session, bot)]
        worst_case = {"slack": bot.worst_case_seconds}
    if count is not None:
        channels = [CountedChannel(channel, count) for channel in channels]
    outbox = Outbox(
        channels,
        clock=clock,
        lease=timedelta(seconds=settings.lease_seconds),
        budget=ChannelBudget(worst_case=worst_case),
    )
    return Pipeline(
        state=StateTable(session.client("dynamodb"), settings.state_table_name),
        services=Services(ecs),
        outbox=outbox,
        policy=settings.policy(),
        essential_containers=TaskDefinitions(ecs).essential_containers,
        home=settings.home,
        containment=build_containment(settings, session, clock),
        probe_confirms=build_cause_probe(session),
        gate=build_gate(settings, session),
        api_errors=ApiErrorStore(session.client("dynamodb"), settings.state_table_name),
    )


def build_cause_probe(session: boto3.Session) -> CauseProbe:
    """The probes that confirm deterministic causes, over their own clients (short timeouts)."""
    clients = ProbeClients(session)
    return CauseProbe(lambda cluster, service, probes: diagnose_service(clients, cluster, service, probes=probes))


def build_gate(settings: Settings, session: boto3.Session) -> DeploymentGate | None:
    """The deployment gate's adapters, in every mode: in dry-run and notify it fails open (CONTINUE)."""
    actions = EcsActions(session.client("ecs"), session.client("application-autoscaling"))
    rechecks = Rechecks(session.client("sqs"), settings.recheck_queue_url) if settings.recheck_queue_url else None
    answers = HookAnswers(session.client("dynamodb"), settings.state_table_name)
    return DeploymentGate(actions, Mode(settings.mode), rechecks, answers, timedelta(seconds=settings.lease_seconds))


def build_containment(
    settings: Settings, session: boto3.Session, clock: Callable[[], datetime] = utc_now
) -> Containment | None:
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
        clock=clock,
    )


def slack_bot_channel(settings: Settings, session: boto3.Session, bot: SlackBot) -> SlackBotChannel:
    """Slack in bot mode: the bot (its token from its secret), living messages kept in the state table."""
    return SlackBotChannel(
        bot,
        SlackMessages(session.client("dynamodb"), settings.state_table_name),
        settings.runbook_base_url,
        unavailable=(SlackUnavailable,),
        gone=(SlackMessageGone,),
        down=(SlackDown,),
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
