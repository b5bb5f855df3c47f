"""Stop-reason classification: the rule table (rules.toml) and the pure classifier over it."""

from __future__ import annotations

from typing import Any

from ecs_watchdog.classify.classifier import classify_stop
from ecs_watchdog.events import MalformedEvent, parse_stop
from ecs_watchdog.models import Classification


def classify_envelope(envelope: dict[str, Any]) -> Classification:
    """Classify a task state change given as an EventBridge envelope or its bare `detail`.

    Raises ecs_watchdog.events.MalformedEvent when it is neither.
    """
    return classify_stop(parse_stop(envelope))


def failure_category(envelope: dict[str, Any]) -> str | None:
    """The category of a failed stop, for an envelope of a STOPPED task; None for anything else
    (another event, a benign stop, or an envelope too malformed to classify)."""
    if envelope.get("detail-type") != "ECS Task State Change" or envelope.get("detail", {}).get("lastStatus") != (
        "STOPPED"
    ):
        return None
    try:
        classification = classify_envelope(envelope)
    except MalformedEvent:
        return None
    return classification.category if classification.failure else None


__all__ = ["classify_envelope", "classify_stop", "failure_category"]
