"""How many failures of one deployment trip the circuit breaker (thresholdConfiguration semantics).

BOUNDED_PERCENT (the default, value 50) = clamp(ceil(value% x desired), 3, 200); UNBOUNDED_PERCENT =
max(1, ceil(value% x desired)); COUNT = value.
"""

from __future__ import annotations

import math

from ecs_watchdog.replay.scenario import BreakerConfig

BREAKER_MIN_THRESHOLD = 3
BREAKER_MAX_THRESHOLD = 200


def breaker_threshold(config: BreakerConfig, desired_count: int) -> int:
    """Failures of one deployment that trip the circuit breaker (thresholdConfiguration semantics)."""
    if config.threshold_type == "COUNT":
        return config.threshold_value
    raw = math.ceil(config.threshold_value * desired_count / 100)
    if config.threshold_type == "UNBOUNDED_PERCENT":
        return max(1, raw)
    return min(BREAKER_MAX_THRESHOLD, max(BREAKER_MIN_THRESHOLD, raw))
