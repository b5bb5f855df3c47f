"""Stop-reason classification: the rule table (rules.toml) and the pure classifier over it."""

from __future__ import annotations

from typing import Any

from ecs_watchdog.classify.classifier import classify_stop
from ecs_watchdog.events import parse_stop
from ecs_watchdog.models import Classification


def classify_envelope(envelope: dict[str, Any]) -> Classification:
    """Classify a task state change given as an EventBridge envelope or its bare `detail`.

    Raises ecs_watchdog.events.MalformedEvent when it is neither.
    """
    return classify_stop(parse_stop(envelope))


__all__ = ["classify_envelope", "classify_stop"]
