"""An account-wide (or organization-wide) episode through the real handler on moto: N services fail
together, recover together and relapse two minutes later. Used by the guard's integration test (small N),
scripts/bench_guard_storm.py (N=200), which reports messages per channel and time per event per phase,
and scripts/bench_state_growth.py (`--accounts`: the services spread over member accounts of a hub)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from tests.integration.incident_events import bodies, service_action, stopped
from tests.integration.organization_setup import (
    create_member_service,
    deployments_per_member,
    hub_settings,
    in_account,
)
from tests.integration.service_setup import create_service, invoke

BATCH = 10  # the events queue's batch size


@dataclass
class Phase:
    name: str
    events: int = 0
    seconds: float = 0.0
    sns: int = 0
    slack: int = 0
    subjects: list[str] = field(default_factory=list)
    failed_records: int = 0
    actions: int = 0  # containment calls that reached ECS (StopServiceDeployment)

    @property
    def ms_per_event(self) -> float:
        return 1000 * self.seconds / max(1, self.events)


def member_accounts(accounts: int) -> list[str]:
    """The member accounts of an organization episode: 100000000001, 100000000002, ..."""
    return [f"{100000000000 + n:012d}" for n in range(1, accounts + 1)]


def run_episode(
    services: int,
    observe: Callable[[LocalAccount, Phase], None] | None = None,
    accounts: int = 1,
    **settings: Any,
) -> list[Phase]:
    """Fail (3 stops each), recover (steady state each), relapse (3 stops each, 2 minutes later).
    `settings` override the function's (e.g. mode="enforce", max_actions_per_hour=2); `observe` is
    called with the sandbox once before the first phase (a phase named "setup") and after each.
    `accounts` > 1: the services are spread evenly over that many member accounts of a hub (organization
    mode), and the events of one cause arrive interleaved across the accounts, as a shared cause hits them."""
    organization = accounts > 1
    members = member_accounts(accounts) if organization else [""]
    per_account = max(1, services // len(members))
    names = [f"svc{n:03d}" for n in range(per_account)]
    failing = [(account, name) for name in names for account in members]  # round robin over the accounts
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(local_account())
        deployments = {}
        if organization:
            deployments = stack.enter_context(deployments_per_member())
            for account in members:
                create_member_service(sandbox, account, completed=5, names=tuple(names), current=6)
            function_settings = hub_settings(sandbox, ",".join(members))
        else:
            for name in names:
                create_service(sandbox, name)
            function_settings = sandbox.settings
        if observe:
            observe(sandbox, Phase("setup"))
        ecs_events.install(function_settings.model_copy(update=settings), sandbox.session)
        task = iter(range(1, 10**6))

        def where(event: dict[str, Any], account: str) -> dict[str, Any]:
            return in_account(event, account) if account else event

        def failures(minute: float) -> list[dict[str, Any]]:
            return [
                where(stopped(next(task), minute + k / 10, service=name), account)
                for k in range(3)
                for account, name in failing
            ]

        recoveries = [where(service_action("SERVICE_STEADY_STATE", 6, service=name), a) for a, name in failing]
        phases = [("fail together", failures(1)), ("recover together", recoveries), ("relapse", failures(8))]
        report = []
        for label, events in phases:
            phase = Phase(label, events=len(events))
            slack_before = len(sandbox.slack.payloads)
            started = time.perf_counter()
            for start in range(0, len(events), BATCH):
                response = invoke(bodies(*events[start : start + BATCH]))
                phase.failed_records += len(response["batchItemFailures"])
            phase.seconds = time.perf_counter() - started
            messages = sandbox.sns_messages()
            phase.sns, phase.slack = len(messages), len(sandbox.slack.payloads) - slack_before
            phase.subjects = [m["Subject"] for m in messages]
            assert sandbox.service_deployments is not None
            calls = [sandbox.service_deployments, *deployments.values()]  # the hub's own, and each member's
            made = [c for d in calls for c, _ in d.calls if c == "StopServiceDeployment"]
            phase.actions = len(made) - sum(p.actions for p in report)
            if observe:
                observe(sandbox, phase)
            report.append(phase)
        return report
