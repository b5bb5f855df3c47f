"""The dashboard rendering evaluates the dashboard's own Logs Insights queries, or refuses."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.dashboard import RECENT_INCIDENTS, TOP_FAILING_SERVICES

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "render_dashboard.py"
spec = importlib.util.spec_from_file_location("render_dashboard", SCRIPT)
assert spec and spec.loader
render = importlib.util.module_from_spec(spec)
sys.modules["render_dashboard"] = render  # its dataclasses look their module up
spec.loader.exec_module(render)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LOGS = [
    (1.0, {"message": "event processed", "service": "prod/api", "category": "image", "failure": True}),
    (2.0, {"message": "event processed", "service": "prod/api", "category": "image", "failure": True}),
    (3.0, {"message": "event processed", "service": "prod/web", "category": "oom", "failure": True}),
    (4.0, {"message": "event processed", "service": "prod/web", "category": "scaling", "failure": False}),
    (5.0, {"message": "incident transition", "service": "a/r/prod/api", "transition": "opened", "summary": "x"}),
]


def query(lines: list[str]) -> str:
    return "SOURCE '<LogGroup>' | " + "\n| ".join(lines)


def test_top_failing_services_counts_failed_stops_per_service_and_category():
    rows = render.logs_insights(query(TOP_FAILING_SERVICES), LOGS, NOW)
    assert rows == [
        {"service": "prod/api", "category": "image", "failed_stops": 2},
        {"service": "prod/web", "category": "oom", "failed_stops": 1},
    ]


def test_recent_incidents_lists_transitions_newest_first_with_the_queried_fields():
    (row,) = render.logs_insights(query(RECENT_INCIDENTS), LOGS, NOW)
    assert row["service"] == "a/r/prod/api" and row["transition"] == "opened" and "incident_kind" in row


def test_a_query_outside_the_supported_subset_is_refused():
    with pytest.raises(ValueError, match="unsupported"):
        render.logs_insights("SOURCE 'x' | parse @message '*' as y", LOGS, NOW)


def test_the_checked_in_picture_was_drawn_from_the_current_dashboard_catalog_and_scenarios():
    from PIL import Image

    picture = Path(render.ROOT) / "docs" / "dashboard.png"
    with Image.open(picture) as image:
        recorded = image.info.get(render.DIGEST_KEY)
    assert recorded == render.inputs_digest(render.DEFAULT_SCENARIOS), (
        "docs/dashboard.png is stale: scripts/run.sh python scripts/render_dashboard.py"
    )


def test_the_digest_is_deterministic_and_covers_the_scenarios():
    inside = Path(render.ROOT) / "scenarios" / "benign-normal-deploy.json"
    before = render.inputs_digest([inside])
    assert render.inputs_digest([inside]) == before  # deterministic
    assert render.inputs_digest([inside, render.DEFAULT_SCENARIOS[0]]) != before
