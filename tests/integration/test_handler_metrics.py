"""What the handler publishes: EMF lines whose metrics and dimensions are the catalog's, and log lines
the dashboard's Logs Insights widgets read."""

from __future__ import annotations

import json
import logging

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.metrics.catalog import CATALOG
from ecs_watchdog.replay.sandbox import local_account
from tests.integration.incident_events import benign, bodies, stopped
from tests.integration.service_setup import create_service, invoke


def emf_lines(out: str) -> list[dict]:
    return [doc for line in out.splitlines() if line.startswith("{") and "_aws" in (doc := json.loads(line))]


def totals(docs: list[dict]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Metric name and dimension values → summed value, across EMF documents."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for doc in docs:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        dims = tuple((d, str(doc[d])) for d in sorted(directive["Dimensions"][0]) if d != "service")
        for metric in directive["Metrics"]:
            values = doc[metric["Name"]]
            found[(metric["Name"], dims)] = found.get((metric["Name"], dims), 0) + sum(
                values if isinstance(values, list) else [values]
            )
    return found


def test_an_opening_batch_publishes_stops_incidents_and_notifications_by_catalog_dimensions(account, capsys):
    invoke(bodies(stopped(1, 1), stopped(2, 2), benign(3, 3), stopped(4, 4)))
    docs = emf_lines(capsys.readouterr().out)
    counted = totals(docs)
    assert counted[("Stops", (("category", "image"), ("outcome", "failure")))] == 3
    assert counted[("Stops", (("category", "scaling"), ("outcome", "benign")))] == 1
    assert counted[("Incidents", (("transition", "opened"),))] == 1
    assert counted[("Notifications", (("channel", "sns"), ("result", "sent")))] == 1
    assert counted[("Notifications", (("channel", "slack"), ("result", "sent")))] == 1
    for doc in docs:  # every published metric is in the catalog, with exactly its dimensions
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]:
            spec = CATALOG[metric["Name"]]
            assert set(directive["Dimensions"][0]) - {"service"} == set(spec.dimensions)


def test_a_failed_send_is_counted_then_counted_as_retried_when_it_goes_out(capsys):
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        records = bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3))
        invoke(records)
        sandbox.slack.status = 200
        invoke(records[2:], receive_count=2)
    counted = totals(emf_lines(capsys.readouterr().out))
    assert counted[("Notifications", (("channel", "slack"), ("result", "failed")))] == 1
    assert counted[("Notifications", (("channel", "slack"), ("result", "retried")))] == 1
    assert counted[("Notifications", (("channel", "slack"), ("result", "sent")))] == 1
    assert counted[("Notifications", (("channel", "sns"), ("result", "sent")))] == 1  # never twice
    assert counted[("FailedRecords", ())] == 1


def test_log_lines_name_the_service_and_each_transition_for_the_dashboard(account, caplog):
    caplog.set_level(logging.INFO)
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    processed = [r for r in caplog.records if r.getMessage() == "event processed"]
    assert {r.service for r in processed} == {"prod/api"} and {r.category for r in processed} == {"image"}
    (transition,) = [r for r in caplog.records if r.getMessage() == "incident transition"]
    assert transition.transition == "opened" and transition.incident_kind == "failing_deployment"
    assert transition.service.endswith("/prod/api") and transition.category == "image"
