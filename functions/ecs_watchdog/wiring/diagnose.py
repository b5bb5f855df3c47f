"""Build the diagnose function's look-ups and channels from its environment, once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

import boto3
from pydantic import BaseModel, ConfigDict, ValidationError

from ecs_watchdog.aws.diagnosis import diagnose_service
from ecs_watchdog.aws.member_sessions import MemberSessions, MemberUnreachable
from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.slack import SlackWebhook
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.aws.tasks import service_of_task
from ecs_watchdog.diagnose.console import (
    Diagnose,
    DiagnoseConsole,
    DiagnosisChannel,
    MemberLookups,
    ServiceOfTask,
    SlackDiagnosisChannel,
    SnsDiagnosisChannel,
)
from ecs_watchdog.diagnose.model import Diagnosis
from ecs_watchdog.diagnose.request import AccountUnavailable

# Environment variable → DiagnoseSettings field (infra/diagnose.py sets them from CDK context).
DIAGNOSE_ENVIRONMENT = {
    "ALERTS_TOPIC_ARN": "topic_arn",
    "SLACK_SECRET_NAME": "slack_secret_name",
    "RUNBOOK_BASE_URL": "runbook_base_url",
    "PROBE_READ_SECRET_VALUES": "read_secret_values",
    # Organization mode (a hub; infra/organization.py): member accounts ("*": the organization), the read role.
    "MEMBER_ACCOUNTS": "member_accounts",
    "MEMBER_READ_ROLE": "member_read_role",
    "MEMBER_EXTERNAL_ID": "member_external_id",
}


class DiagnoseSettings(BaseModel):
    """The diagnose function's environment: where to post, and whether probes may read secret values."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    topic_arn: str | None = None
    slack_secret_name: str | None = None
    runbook_base_url: str | None = None
    read_secret_values: bool = False  # only when the deployment opts in (watchdog:probe_read_secret_values)
    member_accounts: str | None = None  # comma-separated account ids, or "*"; None: not a hub
    member_read_role: str | None = None
    member_external_id: str = ""

    @property
    def home(self) -> tuple[str, str] | None:
        """The account and region of the alerts topic: the hub's own."""
        parts = (self.topic_arn or "").split(":")
        return (parts[4], parts[3]) if len(parts) >= 6 and parts[0] == "arn" else None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> DiagnoseSettings:
        """Read and validate the environment; a bad variable fails loudly, naming it."""
        env = os.environ if environ is None else environ
        values = {field: env[name] for name, field in DIAGNOSE_ENVIRONMENT.items() if env.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            by_field = {field: name for name, field in DIAGNOSE_ENVIRONMENT.items()}
            bad = ", ".join(by_field.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors())
            raise RuntimeError(
                f"ecs-watchdog diagnose is misconfigured: check environment variable(s) {bad}"
            ) from error


def build_diagnose_console(settings: DiagnoseSettings, session: boto3.Session | None = None) -> DiagnoseConsole:
    """The console answerer over one boto3 session (tests pass a moto one; Lambda uses the default)."""
    session = session or boto3.Session()
    clients = ProbeClients(session)

    def diagnose(cluster: str, service: str) -> Diagnosis:
        return diagnose_service(clients, cluster, service, read_secret_values=settings.read_secret_values)

    channels: list[DiagnosisChannel] = []
    if settings.topic_arn:
        channels.append(
            SnsDiagnosisChannel(SnsTopic(session.client("sns"), settings.topic_arn), settings.runbook_base_url)
        )
    if settings.slack_secret_name:
        poster = SlackWebhook.from_secret(session.client("secretsmanager"), settings.slack_secret_name)
        channels.append(SlackDiagnosisChannel(poster, settings.runbook_base_url))
    home = settings.home
    return DiagnoseConsole(
        diagnose=diagnose,
        service_of_task=lambda cluster, task: service_of_task(clients.client("ecs"), cluster, task),
        channels=channels,
        runbook_base_url=settings.runbook_base_url,
        home_account=home[0] if home else None,
        members=member_lookups(settings, session),
    )


def member_lookups(settings: DiagnoseSettings, session: boto3.Session) -> MemberLookups | None:
    """A hub's member accounts, each diagnosed through its read role; None outside organization mode. The read
    role grants no secret values: a member's secrets are checked by metadata only."""
    home = settings.home
    if not (settings.member_accounts and settings.member_read_role and home):
        return None
    sessions = MemberSessions(session.client("sts"), home[1], settings.member_external_id)
    whole_organization = settings.member_accounts.strip() == "*"
    named = {a.strip() for a in settings.member_accounts.split(",") if a.strip()}
    read_role = settings.member_read_role

    def lookups(account: str) -> tuple[Diagnose, ServiceOfTask]:
        if not whole_organization and account not in named:
            raise AccountUnavailable(f"account {account} is not one this hub watches (watchdog:member_accounts)")
        try:
            clients = ProbeClients(sessions.session(account, read_role))
        except MemberUnreachable as error:
            raise AccountUnavailable(f"account {account}: the hub cannot assume its role: {error}") from error
        return (
            lambda cluster, service: diagnose_service(clients, cluster, service),
            lambda cluster, task: service_of_task(clients.client("ecs"), cluster, task),
        )

    return lookups
