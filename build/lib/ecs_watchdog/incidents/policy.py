"""Loop-rule thresholds: account defaults (CDK context) and the per-service tag override."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

THRESHOLD_TAG = "ecs-watchdog:threshold"
# A wrong value fails loudly at the first event, so the causes a probe can prove are a fixed list.
DETERMINISTIC_CATEGORIES = frozenset({"image", "secrets", "logging", "task_definition"})


@dataclass(frozen=True)
class LoopPolicy:
    """When failures become an incident. Defaults are the documented ones (docs/state.md)."""

    failure_threshold: int = 3
    crash_loop_window: timedelta = timedelta(minutes=15)
    stuck_deployment_after: timedelta = timedelta(minutes=30)
    correlated_services: int = 5
    correlation_window: timedelta = timedelta(minutes=10)
    deterministic_categories: frozenset[str] = field(default=DETERMINISTIC_CATEGORIES)

    def threshold(self, override: int | None) -> int:
        """The failure threshold for a service: its tag when set, the account default otherwise."""
        return override if override is not None else self.failure_threshold


def threshold_from_tags(tags: dict[str, str]) -> int | None:
    """The `ecs-watchdog:threshold` tag as a whole number from 1 to 1000, None when absent.

    Raises ValueError naming the tag and value when it is set but invalid (the caller logs it and
    keeps the account default: a typo in a tag must not switch the watchdog off for a service).
    """
    value = tags.get(THRESHOLD_TAG)
    if value is None:
        return None
    if not value.strip().isdigit() or not 1 <= int(value) <= 1000:
        raise ValueError(f"tag {THRESHOLD_TAG}={value!r} is not a whole number from 1 to 1000")
    return int(value)
