"""The replay's policies: who reacts to a scenario's failures. A module of its own, free of moto, so the
command line can list them (argparse choices) without loading the sandbox."""

from __future__ import annotations

POLICIES = (
    "none",
    "circuit-breaker",
    "circuit-breaker-best",
    "circuit-breaker-count-1",
    "watchdog",
    "watchdog-dry-run",
)
WATCHDOG_POLICIES = ("watchdog", "watchdog-dry-run")
