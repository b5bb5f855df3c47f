"""Build the events function's pipeline and intake from its settings, once per cold start."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import boto3

from ecs_watchdog.announce.channels import PagerDutyChannel, SlackBotChannel, channels_of
from ecs_watchdog.announce.outbox import ChannelBudget, Outbox
from ecs_watchdog.aws.api_error_store import ApiErrorStore
from ecs_watchdog.aws.audit import AuditEvents
from ecs_watchdog.aws.ecs import Services, TaskDefinitions
from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.aws.instance_tasks import InstanceTasks
from ecs_watchdog.aws.kill_switch import KillSwitch
from ecs_watchdog.aws.member_sessions import MemberSessions, MemberUnreachable
from ecs_watchdog.aws.parking import ParkedRecords
from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.service_tasks import ServiceTasks
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.contain.step import Containment
from ecs_watchdog.diagnose.step import CauseProbe
from ecs_watchdog.flow.accounts import MemberPipelines
from ecs_watchdog.flow.changes import RevisionPreflight
from ecs_watchdog.flow.intake import Count, Intake
from ecs_watchdog.flow.pipeline import Pipeline, utc_now
from ecs_watchdog.metrics.metering import CountedChannel
from ecs_watchdog.wiring.on_first_use import OnFirstUse, lazy_client
from ecs_watchdog.wiring.settings import Settings

if TYPE_CHECKING:
    from ecs_watchdog.aws.slack_bot import SlackBot
    from ecs_watchdog.diagnose.model import Diagnosis
    from ecs_watchdog.diagnose.preflight import Preflight
    from ecs_watchdog.gate.pause import DeploymentGate


def build_pipeline(
    settings: Settings,
    session: boto3.Session | None = None,
    clock: Callable[[], datetime] = utc_now,
    count: Count | None = None,
    *,
    member: str | None = None,
    sessions: MemberSessions | None = None,
    reads_only: bool = False,
    state: StateTable | None = None,
) -> Pipeline:
    """Adapters over one boto3 session (the simulator passes its own, and its simulated clock); with
    `count`, each channel counts what it sends (metering.CountedChannel). With `member` (a hub's member
    account), look-ups, probes and actions go through the roles `sessions` assumes there; state and
    channels stay the hub's: one `state` table (and one container cache) for the hub and all its members,
    so the organization item one member's pipeline wrote is the copy the next one reads. `reads_only` (the
    sweep): no containment, no gate, no preflight, in the members' pipelines too, and no containment role
    assumed."""
    session = session or boto3.Session()
    state = state or StateTable(lazy_client(session, "dynamodb"), settings.state_table_name)
    looks, acts, home = session, session, settings.home
    if member and sessions and settings.member_read_role:
        looks = sessions.session(member, settings.member_read_role)
        enforce = Mode(settings.mode) is Mode.ENFORCE and settings.member_contain_role and not reads_only
        # A member's PAUSE hooks are answered through the containment role in enforce (a ROLLBACK is
        # containment), through the read role otherwise (only the fail-open CONTINUE): docs/organization.md.
        acts = sessions.session(member, str(settings.member_contain_role)) if enforce else looks
        home = (member, home[1]) if home else None
    ecs = lazy_client(looks, "ecs")
    preflight = build_preflight(looks)
    outbox = build_outbox(settings, session, clock, count)
    return Pipeline(
        state=state,
        services=Services(ecs),
        outbox=outbox,
        policy=settings.policy(),
        essential_containers=TaskDefinitions(ecs).essential_containers,
        home=home,
        members=None if member else build_members(settings, session, clock, count, reads_only=reads_only, state=state),
        organization=organization_key(settings),
        containment=None if reads_only else build_containment(settings, session, clock, acts, looks),
        probe_confirms=build_cause_probe(looks),
        gate=None
        if reads_only
        else cast(
            "DeploymentGate", OnFirstUse(lambda: build_gate(settings, session, preflight, acts), "deployment gate")
        ),
        preflight=None if reads_only else preflight,
        api_errors=ApiErrorStore(lazy_client(session, "dynamodb"), settings.state_table_name),
        instance_services=InstanceTasks(ecs).services_on,
    )


def build_outbox(
    settings: Settings, session: boto3.Session, clock: Callable[[], datetime] = utc_now, count: Count | None = None
) -> Outbox:
    """The channels people hear from (SNS; Slack by webhook or as a bot; PagerDuty) and their outbox."""
    # The Slack and PagerDuty clients (slack_sdk, httpx2) load only where a channel is configured: a
    # third of the cold start otherwise, for a channel that is not used.
    slack = None
    slack_unavailable: tuple[type[Exception], ...] = ()  # what the webhook raises: only with a webhook
    slack_down: tuple[type[Exception], ...] = ()
    if settings.slack_secret_name:
        from ecs_watchdog.aws.slack import SlackDown, SlackUnavailable, SlackWebhook

        slack = SlackWebhook.from_secret(session.client("secretsmanager"), settings.slack_secret_name)
        slack_unavailable, slack_down = (SlackUnavailable,), (SlackDown,)
    channels = channels_of(
        SnsTopic(lazy_client(session, "sns"), settings.topic_arn),
        slack,
        settings.runbook_base_url,
        slack_unavailable=slack_unavailable,
        slack_down=slack_down,
    )
    worst_case = {"slack": slack.worst_case_seconds} if slack else {}
    if settings.slack_bot_secret_name and settings.slack_channel:
        # Bot mode edits one message per incident; it replaces the webhook (both would say everything twice).
        from ecs_watchdog.aws.slack_bot import SlackBot

        bot = SlackBot.from_secret(
            session.client("secretsmanager"), str(settings.slack_bot_secret_name), str(settings.slack_channel)
        )
        channels = [c for c in channels if c.name != "slack"] + [slack_bot_channel(settings, session, bot)]
        worst_case = {"slack": bot.worst_case_seconds}
    if settings.pagerduty_secret_name:
        from ecs_watchdog.aws.pagerduty import PagerDutyDown, PagerDutyEvents, PagerDutyUnavailable

        pagerduty = PagerDutyEvents(session.client("secretsmanager"), settings.pagerduty_secret_name)
        channels = [
            *channels,
            PagerDutyChannel(pagerduty, settings.runbook_base_url, (PagerDutyUnavailable,), (PagerDutyDown,)),
        ]
        worst_case["pagerduty"] = pagerduty.worst_case_seconds
    if count is not None:
        channels = [CountedChannel(channel, count) for channel in channels]
    outbox = Outbox(
        channels,
        clock=clock,
        lease=timedelta(seconds=settings.lease_seconds),
        budget=ChannelBudget(worst_case=worst_case),
    )
    return outbox


def organization_key(settings: Settings) -> str | None:
    """The hub's account/region, whose item holds the correlated-failure guard across its accounts (the
    hub's and every member's pipeline share it); None outside organization mode."""
    if not (settings.member_accounts and settings.member_read_role and settings.home):
        return None
    return f"{settings.home[0]}/{settings.home[1]}"


def build_members(
    settings: Settings,
    session: boto3.Session,
    clock: Callable[[], datetime],
    count: Count | None,
    *,
    reads_only: bool = False,
    sessions: MemberSessions | None = None,
    state: StateTable | None = None,
) -> MemberPipelines | None:
    """A hub's member accounts, each with a pipeline through its own roles; None outside organization mode."""
    sessions = sessions or member_sessions(settings, session)
    if sessions is None:
        return None
    return MemberPipelines(
        build=lambda account: build_pipeline(
            settings, session, clock, count, member=account, sessions=sessions, reads_only=reads_only, state=state
        ),
        watched=settings.watched_members,
        unreachable=(MemberUnreachable,),
        clock=clock,
    )


def member_sessions(settings: Settings, session: boto3.Session) -> MemberSessions | None:
    """The hub's sessions in its members' accounts (their roles, its ExternalId); None outside organization mode."""
    if not (settings.member_accounts and settings.member_read_role and settings.home):
        return None
    return MemberSessions(lazy_client(session, "sts"), settings.home[1], settings.member_external_id)


def build_cause_probe(session: boto3.Session) -> CauseProbe:
    """The probes that confirm deterministic causes, over their own clients (short timeouts, each
    built on first use); the probes' modules load on the first probe, not at cold start."""
    clients = ProbeClients(session)

    def probe(cluster: str, service: str, probes: Collection[str]) -> Diagnosis:
        from ecs_watchdog.aws.diagnosis import diagnose_service

        return diagnose_service(clients, cluster, service, probes=probes)

    return CauseProbe(probe)


def build_gate(
    settings: Settings,
    session: boto3.Session,
    preflight: RevisionPreflight | None = None,
    acting: boto3.Session | None = None,
) -> DeploymentGate:
    """The deployment gate's adapters, in every mode: in dry-run and notify it fails open (CONTINUE). Its ECS
    calls go through `acting` (a member's role in organization mode); its answers are kept in the hub's table.
    build_pipeline builds it on the first PAUSE hook event, so its modules load then."""
    from ecs_watchdog.aws.hook_answers import HookAnswers
    from ecs_watchdog.aws.recheck import Rechecks
    from ecs_watchdog.gate.pause import DeploymentGate

    acting = acting or session
    actions = EcsActions(lazy_client(acting, "ecs"), lazy_client(acting, "application-autoscaling"))
    rechecks = Rechecks(lazy_client(session, "sqs"), settings.recheck_queue_url) if settings.recheck_queue_url else None
    answers = HookAnswers(lazy_client(session, "dynamodb"), settings.state_table_name)
    return DeploymentGate(
        actions,
        Mode(settings.mode),
        rechecks,
        answers,
        timedelta(seconds=settings.lease_seconds),
        preflight=preflight,
    )


def build_preflight(session: boto3.Session) -> RevisionPreflight:
    """A new revision's preflight over the probes' clients; its modules load on the first deployment,
    not at cold start."""
    built: list[RevisionPreflight] = []

    def preflight(task_definition: str, cluster: str, service: str) -> Preflight | None:
        if not built:
            from ecs_watchdog.aws.preflight import RevisionPreflighter

            built.append(RevisionPreflighter(ProbeClients(session)))
        return built[0](task_definition, cluster, service)

    return preflight


def build_containment(
    settings: Settings,
    session: boto3.Session,
    clock: Callable[[], datetime] = utc_now,
    acting: boto3.Session | None = None,
    looking: boto3.Session | None = None,
    *,
    dry_run: bool | None = None,
) -> Containment | None:
    """Containment's adapters: its ECS calls through `acting`, its read of the service's tasks through
    `looking` (a member's containment and read roles in organization mode; the read role names the tasks
    of an impaired instance anyway); None in notify mode (the watchdog then only tells people). `dry_run`:
    whether its ECS adapter makes no call (default: outside enforce; the click desk's acts in approve mode too)."""
    if Mode(settings.mode) is Mode.NOTIFY:
        return None
    acting = acting or session
    looking = looking or session
    if dry_run is None:
        dry_run = Mode(settings.mode) is not Mode.ENFORCE  # Mode(): a copied Settings may hold a str
    return Containment(
        actions=EcsActions(
            lazy_client(acting, "ecs"),
            lazy_client(acting, "application-autoscaling"),
            dry_run=dry_run,
        ),
        policy=settings.containment_policy(),
        kill_switch=KillSwitch(lazy_client(session, "ssm"), settings.kill_switch_parameter)
        if settings.kill_switch_parameter
        else None,
        audit=AuditEvents(lazy_client(session, "events"), settings.audit_event_bus),
        tasks=ServiceTasks(lazy_client(looking, "ecs")),
        clock=clock,
    )


def slack_bot_channel(settings: Settings, session: boto3.Session, bot: SlackBot) -> SlackBotChannel:
    """Slack in bot mode: the bot (its token from its secret), living messages kept in the state table."""
    from ecs_watchdog.aws.slack import SlackDown, SlackUnavailable
    from ecs_watchdog.aws.slack_bot import SlackMessageGone
    from ecs_watchdog.aws.slack_messages import SlackMessages

    return SlackBotChannel(
        bot,
        SlackMessages(lazy_client(session, "dynamodb"), settings.state_table_name),
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
        parking = ParkedRecords(lazy_client(session, "sqs"), settings.parked_records_queue_url)
    return Intake(
        build_pipeline(settings, session, clock, count),
        parking,
        count or (lambda name, value: None),
        correlate or (lambda event_id: None),
    )
