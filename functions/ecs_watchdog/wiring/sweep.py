"""Build the scheduled sweep from its settings and limits, once per cold start."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping

import boto3
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ecs_watchdog.aws.ecs_inventory import SWEEP_CLIENT_CONFIG, EcsInventory
from ecs_watchdog.aws.member_sessions import MemberSessions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.aws.sweep_cursor import SweepCursorItem
from ecs_watchdog.flow.pipeline import utc_now
from ecs_watchdog.sweep.step import Sweep
from ecs_watchdog.wiring.events import build_members, build_pipeline, member_sessions
from ecs_watchdog.wiring.settings import Settings


class SweepLimits(BaseModel):
    """How much one sweep run may do (infra/sweep.py sets them below the function's timeout)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

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
    next event, by the events function. In a hub it ticks and walks the member accounts through their read
    roles (docs/organization.md)."""
    session = session or boto3.Session()
    dynamodb = session.client("dynamodb")
    table = StateTable(dynamodb, settings.state_table_name)
    # One state table (one container cache) for the sweep, its pipeline and the members' pipelines.
    pipeline = build_pipeline(settings, session, reads_only=True, state=table)
    sessions = member_sessions(settings, session)
    members: tuple[str, ...] = ()
    member_inventory = None
    if sessions is not None:
        # One set of member sessions for the ticks (through the members' pipelines) and the walk.
        pipeline = dataclasses.replace(
            pipeline,
            members=build_members(settings, session, utc_now, None, reads_only=True, sessions=sessions, state=table),
        )
        # The named members (watchdog:member_accounts); with the organization admitted ("*") the hub knows no
        # list of accounts to walk: their services with state are still ticked.
        members = tuple(sorted(settings.watched_members or ()))
        member_inventory = member_inventories(sessions, settings.member_read_role or "")
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
        members=members,
        member_inventory=member_inventory,
    )


def member_inventories(sessions: MemberSessions, read_role: str) -> Callable[[str], EcsInventory]:
    """A member's clusters and services through its read role (MemberUnreachable when it cannot be assumed)."""

    def inventory(account: str) -> EcsInventory:
        return EcsInventory(sessions.session(account, read_role).client("ecs", config=SWEEP_CLIENT_CONFIG))

    return inventory
