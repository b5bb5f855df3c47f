"""The environment a watchdog function runs with (the events function and the sweep), validated at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.contain.models import ContainmentPolicy, Mode
from ecs_watchdog.incidents.policy import LoopPolicy

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
    "WATCHDOG_APPROVAL_MINUTES": "approval_minutes",
    "KILL_SWITCH_PARAMETER": "kill_switch_parameter",
    "AUDIT_EVENT_BUS": "audit_event_bus",
    "RECHECK_QUEUE_URL": "recheck_queue_url",
    "PARKED_RECORDS_QUEUE_URL": "parked_records_queue_url",
    "SLACK_BOT_SECRET_NAME": "slack_bot_secret_name",
    "SLACK_CHANNEL": "slack_channel",
    "PAGERDUTY_SECRET_NAME": "pagerduty_secret_name",
    # Organization mode (the hub; infra/organization.py): the member accounts ("*": the organization),
    # the roles assumed in them and the ExternalId they require.
    "MEMBER_ACCOUNTS": "member_accounts",
    "MEMBER_READ_ROLE": "member_read_role",
    "MEMBER_CONTAIN_ROLE": "member_contain_role",
    "MEMBER_EXTERNAL_ID": "member_external_id",
}


class Settings(BaseModel):
    """The environment a watchdog function runs with, validated at cold start."""

    model_config = ConfigDict(frozen=True, defer_build=True)

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
    mode: Mode = Mode.DRY_RUN  # notify | dry-run | approve | enforce (the account's ceiling; tags only lower it)
    cooldown_minutes: int = Field(default=30, ge=1, le=1440)
    max_actions_per_hour: int = Field(default=10, ge=1, le=1000)
    approval_minutes: int = Field(default=60, ge=1, le=1440)  # approve mode: how long a proposal holds
    kill_switch_parameter: str | None = None  # SSM parameter: "on" stops every action without a redeploy
    audit_event_bus: str = "default"
    recheck_queue_url: str | None = None  # the events queue: undecided hooks come back to it, delayed

    def containment_policy(self) -> ContainmentPolicy:
        return ContainmentPolicy(
            mode=Mode(self.mode),
            cooldown=timedelta(minutes=self.cooldown_minutes),
            hourly_cap=self.max_actions_per_hour,
            approval_window=timedelta(minutes=self.approval_minutes),
        )

    slack_bot_secret_name: str | None = None  # bot mode: one living message per incident (needs slack_channel)
    slack_channel: str | None = None
    pagerduty_secret_name: str | None = None  # an Events API v2 routing key: one page per incident
    member_accounts: str | None = None  # comma-separated account ids, or "*"; None: not a hub
    member_read_role: str | None = None
    member_contain_role: str | None = None  # only in enforce
    member_external_id: str = ""

    @property
    def watched_members(self) -> frozenset[str] | None:
        """The member accounts the hub acts for; None: every account its bus admits (the organization)."""
        if not self.member_accounts or self.member_accounts.strip() == "*":
            return None
        return frozenset(a.strip() for a in self.member_accounts.split(",") if a.strip())

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
