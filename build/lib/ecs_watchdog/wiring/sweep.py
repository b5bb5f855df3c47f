"""Build the scheduled sweep from its settings and limits, once per cold start."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.aws.ecs_inventory import SWEEP_CLIENT_CONFIG, EcsInventory
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.aws.sweep_cursor import SweepCursorItem
from ecs_watchdog.flow.pipeline import utc_now
from ecs_watchdog.sweep.step import Sweep
from ecs_watchdog.wiring.events import build_pipeline
from ecs_watchdog.wiring.settings import Settings


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
