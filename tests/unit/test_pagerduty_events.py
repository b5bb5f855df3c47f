"""What PagerDuty is sent for each transition (Events API v2, "Send an Alert Event" on
developer.pagerduty.com), and what the routing key's secret may hold."""

from __future__ import annotations

import pytest

from ecs_watchdog.announce.pagerduty import MAX_SUMMARY, dedup_key, pagerduty_event
from ecs_watchdog.aws.pagerduty import PagerDutyUnavailable, routing_key_from_secret
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from tests.unit.announce_fixtures import ENFORCED_ACTION, REF, transition


def test_every_transition_of_an_incident_lands_on_one_alert():
    kinds = (TransitionKind.OPENED, TransitionKind.CONTAINED, TransitionKind.RESOLVED, TransitionKind.REOPENED)
    keys = {dedup_key(transition(IncidentKind.CRASH_LOOP, k), REF) for k in kinds}
    assert keys == {"ecs-watchdog/123456789012/us-east-1/prod/api/api-20250721T080300Z-2"}


def test_opening_triggers_containment_updates_resolution_resolves_closing_says_nothing():
    opened = pagerduty_event(transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED), REF)
    contained_t = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.CONTAINED)
    contained = pagerduty_event(contained_t.model_copy(update={"action": ENFORCED_ACTION}), REF)
    assert opened is not None and opened[0] == "trigger" and opened[1]["payload"]["severity"] == "error"
    assert contained is not None and contained[0] == "trigger" and contained[1]["payload"]["severity"] == "warning"
    assert contained[1]["payload"]["custom_details"]["Action"][0] == "Did: scale to zero"
    assert pagerduty_event(transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.RESOLVED), REF) == ("resolve", {})
    assert pagerduty_event(transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.CLOSED), REF) is None


def test_many_services_at_once_is_critical_and_a_long_summary_is_cut_to_pagerdutys_limit():
    correlated = transition(IncidentKind.CORRELATED, TransitionKind.OPENED)
    event = pagerduty_event(correlated.model_copy(update={"summary": "x" * 5000}), REF)
    assert event is not None
    payload = event[1]["payload"]
    assert payload["severity"] == "critical" and len(payload["summary"]) == MAX_SUMMARY
    assert payload["source"] == "123456789012/us-east-1"


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("R0UT1NGKEY\n", ("R0UT1NGKEY", None)),
        (
            '{"routing_key": "R0UT1NGKEY", "events_url": "https://events.eu.pagerduty.com"}',
            ("R0UT1NGKEY", "https://events.eu.pagerduty.com"),
        ),
    ],
)
def test_the_secret_holds_the_key_or_json_with_it(secret, expected):
    assert routing_key_from_secret(secret) == expected


@pytest.mark.parametrize(
    "secret", ["", "two words", '{"routing_key": ""}', '{"routing_key": "K", "events_url": "http://x"}']
)
def test_a_secret_without_a_usable_key_is_a_configuration_fault_that_never_quotes_it(secret):
    with pytest.raises(PagerDutyUnavailable) as caught:
        routing_key_from_secret(secret)
    assert "two words" not in str(caught.value)
