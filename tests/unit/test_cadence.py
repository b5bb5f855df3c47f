"""Count updates come at 5, 15, 30, 60 minutes after opening, then hourly; a changed picture comes at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecs_watchdog.announce.cadence import PictureChange, due_update, next_update_at, picture_changes
from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus

OPENED_AT = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
INCIDENT = Incident(
    id="api-1",
    service="123456789012/us-east-1/prod/api",
    kind=IncidentKind.CRASH_LOOP,
    category="oom",
    opened_at=OPENED_AT,
    updated_at=OPENED_AT,
    failures=3,
    categories={"oom": 3},
)


def minutes(m: float) -> datetime:
    return OPENED_AT + timedelta(minutes=m)


@pytest.mark.parametrize(
    ("last", "expected"),
    [(None, 5), (5, 15), (15, 30), (30, 60), (60, 120), (120, 180), (150, 180), (3, 5), (61, 120)],
)
def test_next_update_follows_the_backoff_then_hourly(last: float | None, expected: float) -> None:
    assert next_update_at(INCIDENT, None if last is None else minutes(last)) == minutes(expected)


def test_no_update_is_due_before_five_minutes_and_one_is_due_at_five() -> None:
    assert not due_update(INCIDENT, None, minutes(4.9))
    assert due_update(INCIDENT, None, minutes(5))


def test_a_flaky_afternoon_yields_a_handful_of_updates() -> None:
    sent: list[datetime] = []
    last = None
    for minute in range(0, 4 * 60 + 1):  # the sweep ticks every minute for four hours
        if due_update(INCIDENT, last, minutes(minute)):
            last = minutes(minute)
            sent.append(last)
    assert [int((s - OPENED_AT).total_seconds() // 60) for s in sent] == [5, 15, 30, 60, 120, 180, 240]


def test_missed_ticks_make_one_update_not_a_burst() -> None:
    assert due_update(INCIDENT, None, minutes(50))
    assert not due_update(INCIDENT, minutes(50), minutes(55))
    assert due_update(INCIDENT, minutes(50), minutes(60))


@pytest.mark.parametrize("status", [IncidentStatus.RESOLVED, IncidentStatus.CLOSED])
def test_finished_incidents_get_no_count_updates(status: IncidentStatus) -> None:
    assert not due_update(INCIDENT.model_copy(update={"status": status}), None, minutes(300))


def test_a_contained_incident_still_gets_updates() -> None:
    assert due_update(INCIDENT.model_copy(update={"status": IncidentStatus.CONTAINED}), minutes(5), minutes(15))


def test_a_new_category_a_confirming_probe_and_a_tripped_guard_are_news() -> None:
    after = INCIDENT.model_copy(
        update={
            "categories": {"oom": 3, "essential_exit": 1},
            "kind": IncidentKind.DETERMINISTIC,
            "containment_eligible": False,
        }
    )
    assert picture_changes(INCIDENT, after) == [
        PictureChange.NEW_CATEGORY,
        PictureChange.PROBE_CONFIRMED,
        PictureChange.GUARD_TRIPPED,
    ]


def test_more_failures_of_the_same_cause_are_not_news() -> None:
    assert picture_changes(INCIDENT, INCIDENT.model_copy(update={"failures": 40, "categories": {"oom": 40}})) == []
    assert picture_changes(None, INCIDENT) == []
