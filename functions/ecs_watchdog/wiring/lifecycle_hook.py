"""Build the Lambda lifecycle hook's gate from its environment, once per cold start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import boto3

from ecs_watchdog.aws.kill_switch import KillSwitch
from ecs_watchdog.aws.service_revisions import ServiceRevisions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.gate.lambda_hook import HookSettings, LambdaHookGate

# EventBridge -> SQS -> the events function takes seconds; two minutes covers a slow batch, then fail open.
PREFLIGHT_WAIT = timedelta(minutes=2)


def build_lambda_hook_gate(
    environ: Mapping[str, str] | None = None,
    session: boto3.Session | None = None,
    clock: Callable[[], datetime] | None = None,
) -> LambdaHookGate:
    """The gate over the state table (STATE_TABLE_NAME) and ECS service revisions, in the account's mode
    (WATCHDOG_MODE, dry-run when unset) under the kill switch (KILL_SWITCH_PARAMETER); raises when
    misconfigured. `clock`: the replay's simulated time."""
    env = os.environ if environ is None else environ
    settings = HookSettings.model_validate(
        {"state_table_name": env.get("STATE_TABLE_NAME", ""), "mode": env.get("WATCHDOG_MODE", Mode.DRY_RUN)}
    )
    session = session or boto3.Session()
    store = StateTable(session.client("dynamodb"), settings.state_table_name)
    switch = env.get("KILL_SWITCH_PARAMETER")
    return LambdaHookGate(
        ServiceRevisions(session.client("ecs")),
        store,
        mode=settings.mode,
        clock=clock or (lambda: datetime.now(UTC)),
        preflight_wait=PREFLIGHT_WAIT,
        kill_switch=KillSwitch(session.client("ssm"), switch) if switch else None,
    )
