"""An account-wide episode through the real handler on moto: N services fail together, recover together
and relapse two minutes later. Used by the guard's integration test (small N) and by
scripts/bench_guard_storm.py (N=200), which reports messages per channel and time per event per phase."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from tests.integration.incident_events import bodies, service_action, stopped
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


def run_episode(
    services: int, observe: Callable[[LocalAccount, Phase], None] | None = None, **settings: Any
) -> list[Phase]:
    """Fail (3 stops each), recover (steady state each), relapse (3 stops each, 2 minutes later).
    `settings` override the function's (e.g. mode="enforce", max_actions_per_hour=2); `observe` is
    called with the sandbox once before the first phase (a phase named "setup") and after each."""
    names = [f"svc{n:03d}" for n in range(services)]
    with local_account() as sandbox:
        for name in names:
            create_service(sandbox, name)
        if observe:
            observe(sandbox, Phase("setup"))
        ecs_events.install(sandbox.settings.model_copy(update=settings), sandbox.session)
        task = iter(range(1, 10**6))

        def failures(minute: float) -> list[dict[str, Any]]:
            return [stopped(next(task), minute + k / 10, service=name) for k in range(3) for name in names]

        phases = [
            ("fail together", failures(1)),
            ("recover together", [service_action("SERVICE_STEADY_STATE", 6, service=name) for name in names]),
            ("relapse", failures(8)),
        ]
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
            made = [c for c, _ in sandbox.service_deployments.calls if c == "StopServiceDeployment"]
            phase.actions = len(made) - sum(p.actions for p in report)
            if observe:
                observe(sandbox, phase)
            report.append(phase)
        return report
