"""The dashboard: what an operator sees first, drawn from the metrics the code publishes, and alarms that page."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk.assertions import Template

from ecs_watchdog.metrics.catalog import CATALOG, NAMESPACE
from infra.dashboard import RECENT_INCIDENTS, TOP_FAILING_SERVICES, dashboard_body


def widgets(template: Template) -> list[dict[str, Any]]:
    return list(dashboard_body(template.to_json())["widgets"])


def titled(template: Template) -> dict[str, dict[str, Any]]:
    return {w["properties"].get("title", ""): w for w in widgets(template)}


def test_first_rows_show_incidents_stops_actions_then_failing_services_and_recent_incidents(template: Template):
    titles = [w["properties"].get("title") for w in sorted(widgets(template), key=lambda w: (w["y"], w["x"]))]
    assert titles[:6] == [
        "Watchdog alarms",
        "Incidents over time (by transition)",
        "Stops by category",
        "Actions taken (by kind and mode)",
        "Top failing services (failed stops)",
        "Recent incidents",
    ]


def test_service_level_widgets_search_the_catalog_metrics_by_their_dimensions(template: Template):
    by_title = titled(template)
    for title, name in (
        ("Incidents over time (by transition)", "Incidents"),
        ("Stops by category", "Stops"),
        ("Actions taken (by kind and mode)", "Actions"),
        ("Notifications per channel", "Notifications"),
        ("Probe results", "Probes"),
    ):
        (expression,) = [m[0]["expression"] for m in by_title[title]["properties"]["metrics"]]
        schema = ",".join([NAMESPACE, *sorted(("service", *CATALOG[name].dimensions))])
        assert expression == f"SEARCH('{{{schema}}} MetricName=\"{name}\"', 'Sum', 300)"


def test_every_custom_metric_on_the_dashboard_is_one_the_code_publishes(template: Template):
    drawn: set[str] = set()
    for widget in widgets(template):
        for metric in widget["properties"].get("metrics", []):
            if metric[0] == NAMESPACE:
                drawn.add(metric[1])
            elif isinstance(metric[0], dict) and (found := re.search(r'MetricName="(\w+)"', metric[0]["expression"])):
                drawn.add(found.group(1))
    assert drawn <= set(CATALOG)
    assert drawn >= {"Incidents", "Stops", "Actions", "Probes", "Notifications", "UnknownStops", "ParkedRecords"}
    assert "ColdStart" in drawn


def test_top_failing_services_and_recent_incidents_query_the_functions_log_group(template: Template):
    (function,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"Handler": "ecs_watchdog.handlers.ecs_events.handler"}}
    ).values()
    log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    by_title = titled(template)
    queries = (("Top failing services (failed stops)", TOP_FAILING_SERVICES), ("Recent incidents", RECENT_INCIDENTS))
    for title, lines in queries:
        properties = by_title[title]["properties"]
        assert by_title[title]["type"] == "log" and properties["view"] == "table"
        assert properties["query"].startswith(f"SOURCE '<{log_group}>' |")
        assert all(line in properties["query"] for line in lines)


def test_health_row_shows_queue_age_and_depth_dlqs_errors_throttles_duration_p99_and_cold_starts(template: Template):
    body = str(dashboard_body(template.to_json()))
    for metric in (
        "ApproximateAgeOfOldestMessage",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Throttles",
        "Duration",
        "ColdStart",
        "ConcurrentExecutions",
    ):
        assert metric in body
    assert "p99" in body


def test_every_alarm_has_an_alarm_action_and_an_ok_action(template: Template):
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 5
    for logical_id, alarm in alarms.items():
        properties = alarm["Properties"]
        assert properties.get("AlarmActions"), f"{logical_id} pages nobody"
        assert properties.get("OKActions"), f"{logical_id} never says it recovered"
