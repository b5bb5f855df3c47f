"""Lambda entry point for a diagnosis asked from the console: `{"cluster": "...", "service": "..."}` or
`{"taskArn": "..."}`, optionally `"post": true`. Answers with the full report (docs/diagnose.md), or
`{"error": ...}` for input it cannot use; it never raises for the caller's sake.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from ecs_watchdog.diagnose.console import DiagnoseConsole
from ecs_watchdog.wiring.diagnose import DiagnoseSettings, build_diagnose_console

logger = Logger(service="ecs-watchdog")
_console: DiagnoseConsole | None = None


def console() -> DiagnoseConsole:
    """The answerer, built from the environment on first use and reused while warm."""
    global _console
    if _console is None:
        _console = build_diagnose_console(DiagnoseSettings.from_environment())
    return _console


def install(settings: DiagnoseSettings, session: Any) -> None:
    """Build the answerer over this boto3 session instead of the environment's (tests: a moto account)."""
    global _console
    _console = build_diagnose_console(settings, session)


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    answer = console().answer(event)
    if "error" in answer:
        logger.warning("diagnose request refused", extra={"error": answer["error"]})
    else:
        # "service" is Powertools' own key: the ECS names get their own.
        found = {"ecs_cluster": answer["cluster"], "ecs_service": answer["service"]}
        found |= {k: answer.get(k) for k in ("verdict", "failing", "posted", "not_posted")}
        logger.info("diagnosis", extra=found)
    return answer
