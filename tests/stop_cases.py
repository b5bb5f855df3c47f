"""The verbatim real-world stop messages in fixtures/stop_messages.json, as classifier inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ecs_watchdog.models import ContainerStop, Stop

CASES_FILE = Path(__file__).parent / "fixtures" / "stop_messages.json"


@dataclass(frozen=True)
class StopCase:
    id: str
    expected: str
    source: str
    stop: Stop
    # Names of the essential containers when the case says (`"essential": true` on a container);
    # None when it does not, as for an event whose task definition was not looked up.
    essential: frozenset[str] | None = None


def _text_of(case: dict) -> str | None:
    # Texts that are not stop reasons (service events, API errors, console banners) are what a
    # user would paste into `ecs-watchdog classify`; they stand in the stoppedReason slot.
    for key in ("stoppedReason", "consoleText", "serviceEvent", "placementReason", "apiError"):
        if case.get(key):
            return case[key]
    return None


def load_cases() -> tuple[list[StopCase], list[str]]:
    """(classifiable cases, ids of cases whose source quotes no text at all)."""
    cases, textless = [], []
    for raw in json.loads(CASES_FILE.read_text()):
        containers = tuple(
            ContainerStop(name=c.get("name") or f"container{i}", exit_code=c.get("exitCode"), reason=c.get("reason"))
            for i, c in enumerate(raw.get("containers") or [])
        )
        text = _text_of(raw)
        if text is None and not any(c.reason or c.exit_code is not None for c in containers):
            textless.append(raw["id"])
            continue
        stop = Stop(
            task_arn="arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
            region="us-east-1",
            account="123456789012",
            cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
            # A service's task unless the case says otherwise (a standalone task's group is `family:<name>`).
            group=raw.get("group", "service:api"),
            started_by=raw.get("startedBy", ""),
            task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/api:7",
            stop_code=raw.get("stopCode"),
            stopped_reason=text,
            containers=containers,
        )
        flagged = [c for c in raw.get("containers") or [] if "essential" in c]
        essential = frozenset(c["name"] for c in flagged if c["essential"]) if flagged else None
        cases.append(StopCase(raw["id"], raw.get("expected_category", raw["category"]), raw["source"], stop, essential))
    return cases, textless
