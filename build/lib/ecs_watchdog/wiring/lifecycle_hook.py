"""Build the Lambda lifecycle hook's gate from its environment, once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

import boto3

from ecs_watchdog.aws.service_revisions import ServiceRevisions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.gate.lambda_hook import HookSettings, LambdaHookGate


def build_lambda_hook_gate(
    environ: Mapping[str, str] | None = None, session: boto3.Session | None = None
) -> LambdaHookGate:
    """The gate over the state table (STATE_TABLE_NAME) and ECS service revisions; raises when misconfigured."""
    env = os.environ if environ is None else environ
    settings = HookSettings(state_table_name=env.get("STATE_TABLE_NAME", ""))
    session = session or boto3.Session()
    store = StateTable(session.client("dynamodb"), settings.state_table_name)
    return LambdaHookGate(ServiceRevisions(session.client("ecs")), store)
