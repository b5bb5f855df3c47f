"""A timer tick for one service without an event: the sweep's hook into the pipeline.

Stuck deployments and the closing of resolved incidents are decided by `engine.check_timers`, which
`Pipeline` runs before every event it processes; a quiet service gets no event. A tick runs the same
step with nothing else to decide: timers fire, undelivered announcements go out, nothing is created.
Meant to become `Pipeline.tick(ref, now)`; until then it is a function over the pipeline's step.
"""

from __future__ import annotations

from datetime import datetime

from ecs_watchdog.incidents.engine import Result
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.pipeline import Outcome, Pipeline


def tick_service(pipeline: Pipeline, ref: ServiceRef, now: datetime) -> Outcome:
    """Run the service's timers at `now` and announce what they open or close (no state: nothing)."""
    # The step is the one path every decision takes; Pipeline.tick will own this call.
    return pipeline._step(
        ref,
        now,
        need_snapshot=lambda state: False,
        create=False,
        decide=lambda state, snapshot: Result(state),
    )
