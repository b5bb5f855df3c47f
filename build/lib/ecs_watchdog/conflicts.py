"""One way to retry a read-decide-write against the state store when it loses a race or is busy.

Every write of watchdog state is conditional (optimistic locking). A writer that loses gets
StaleWrite, reads again and decides again; a throttled store (StoreBusy) is waited out with jittered
backoff. Callers say what each attempt does; this module only says how often and how long to wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
D = TypeVar("D")


class StaleWrite(Exception):
    """Another writer changed the stored state since it was read: read again and decide again."""


class StoreBusy(Exception):
    """The state store is throttling or briefly unavailable: wait a little and try again."""


MAX_ATTEMPTS = 20  # a handful of racers settle in two or three; a burst of fifty needs more


class ReadAgain(StaleWrite):
    """This container's cached copy cannot settle the question: read the table (no need to wait)."""


class Contention(RuntimeError):
    """The state kept changing (or the store kept refusing) for every attempt: retry the event later."""


def backoff(attempt: int) -> None:
    """Wait a little, randomly, before retrying, so racers do not collide again in step."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


def retry_on_conflict(
    attempt: Callable[[int], T],
    *,
    what: str,
    pause: Callable[[int], None] = backoff,
    attempts: int = MAX_ATTEMPTS,
) -> T:
    """Run `attempt(n)` until it completes without StaleWrite or StoreBusy. `n` counts from 0; an
    attempt after the first must read afresh (its earlier copy was stale). Raises Contention at the end."""
    last: Exception | None = None
    for n in range(attempts):
        try:
            return attempt(n)
        except (StaleWrite, StoreBusy) as error:
            last = error
            if not isinstance(error, ReadAgain):
                pause(n)
    raise Contention(f"{what}: still conflicting after {attempts} attempts ({type(last).__name__})") from last


def update_with_retry(
    load: Callable[[bool], D | None],
    change: Callable[[D], D | None],
    save: Callable[[D], D],
    *,
    what: str,
    pause: Callable[[int], None] = backoff,
    attempts: int = MAX_ATTEMPTS,
) -> D | None:
    """Read a document (`load(fresh)`), apply `change` (None: nothing to write) and save it conditionally,
    again and again until it sticks. Returns the stored document, or None when there is none."""

    def attempt(n: int) -> D | None:
        doc = load(n > 0)
        if doc is None:
            return None
        updated = change(doc)
        return doc if updated is None else save(updated)

    return retry_on_conflict(attempt, what=what, pause=pause, attempts=attempts)
