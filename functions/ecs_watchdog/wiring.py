"""Build the pipeline's adapters from the function's environment, once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.aws.ecs import TaskDefinitions
from ecs_watchdog.aws.slack import SecretValue, SlackWebhook
from ecs_watchdog.aws.sns import SnsTopic
from ecs_watchdog.pipeline import Pipeline


class Settings(BaseModel):
    """The environment a watchdog function runs with (set by infra/functions.py)."""

    model_config = ConfigDict(frozen=True)

    topic_arn: str = Field(min_length=1)
    slack_secret_name: str | None = None
    runbook_base_url: str | None = None
    state_table_name: str | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the environment; a missing or bad variable fails loudly, naming it."""
        env = os.environ if environ is None else environ
        try:
            return cls(
                topic_arn=env.get("ALERTS_TOPIC_ARN", ""),
                slack_secret_name=env.get("SLACK_SECRET_NAME") or None,
                runbook_base_url=env.get("RUNBOOK_BASE_URL") or None,
                state_table_name=env.get("STATE_TABLE_NAME") or None,
            )
        except ValidationError as error:
            names = {"topic_arn": "ALERTS_TOPIC_ARN"}
            bad = ", ".join(names.get(str(e["loc"][0]), str(e["loc"][0])) for e in error.errors())
            raise RuntimeError(f"ecs-watchdog is misconfigured: check environment variable(s) {bad}") from error


def build_pipeline(settings: Settings, session: boto3.Session | None = None) -> Pipeline:
    """Adapters over one boto3 session (the simulator passes its own; Lambda uses the default)."""
    session = session or boto3.Session()
    slack = None
    if settings.slack_secret_name:
        slack = SlackWebhook(SecretValue(session.client("secretsmanager"), settings.slack_secret_name))
    return Pipeline(
        sns=SnsTopic(session.client("sns"), settings.topic_arn),
        slack=slack,
        essential_containers=TaskDefinitions(session.client("ecs")).essential_containers,
        runbook_base_url=settings.runbook_base_url,
    )
