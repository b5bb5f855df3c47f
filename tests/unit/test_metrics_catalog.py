"""The metric catalog: keys are checked against it, and counts reach EMF with the catalog's dimensions."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.metrics.catalog import CATALOG, key, parse_key
from ecs_watchdog.metrics.metering import DimensionedCounts, counter


def test_a_key_carries_the_dimensions_the_catalog_names_in_its_order():
    counted = key("Stops", outcome="failure", category="oom")
    assert counted == "Stops|category=oom|outcome=failure"
    spec, dimensions = parse_key(counted)
    assert spec.name == "Stops" and dimensions == {"category": "oom", "outcome": "failure"}


def test_a_metric_outside_the_catalog_or_with_wrong_dimensions_is_refused():
    with pytest.raises(KeyError):
        key("Stops_oom")
    with pytest.raises(ValueError, match="takes dimensions"):
        key("Stops", category="oom")
    with pytest.raises(ValueError, match="takes dimensions"):
        key("ParkedRecords", service="prod/api")  # no per-service dimension, ever
    with pytest.raises(ValueError):
        parse_key("Incidents")  # Incidents needs its transition


def test_no_metric_has_a_per_service_or_per_task_dimension():
    forbidden = {"service", "cluster", "task", "task_id", "incident", "revision"}
    assert all(not forbidden & set(spec.dimensions) for spec in CATALOG.values())


def test_dimension_values_cannot_forge_another_dimension():
    _spec, dimensions = parse_key(key("Notifications", channel="sns|result=sent", result="failed"))
    assert dimensions == {"channel": "sns_result_sent", "result": "failed"}


def test_counts_are_summed_per_dimension_set_and_printed_as_one_emf_line_each(capsys):
    plain: list[tuple[str, str, float]] = []
    dimensioned = DimensionedCounts()
    count = counter(lambda name, unit, value: plain.append((name, unit, value)), dimensioned)
    for _ in range(3):
        count(key("Stops", category="image", outcome="failure"), 1)
    count(key("Incidents", transition="opened"), 1)
    count(key("Stops", category="scaling", outcome="benign"), 1)
    count("ParkedRecords", 1)
    dimensioned.flush()
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert plain == [("ParkedRecords", "Count", 1)]
    by_dimensions = {tuple(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): doc for doc in lines}
    assert len(lines) == 3
    image = next(d for d in lines if d.get("category") == "image")
    assert image["Stops"] == [3.0] and image["outcome"] == "failure" and image["service"] == "ecs-watchdog"
    assert image["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "EcsWatchdog"
    assert ("service", "transition") in {tuple(sorted(k)) for k in by_dimensions}
    dimensioned.flush()
    assert capsys.readouterr().out == ""  # flushed counts are forgotten


def test_docs_list_every_metric_of_the_catalog():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()
    assert all(f"| `{name}` |" in text for name in CATALOG)


def test_the_metrics_page_table_is_the_one_the_catalog_generates():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "render_metrics_doc.py"
    spec = importlib.util.spec_from_file_location("render_metrics_doc", script)
    assert spec and spec.loader
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    page = render.PAGE.read_text(encoding="utf-8")
    assert render.rendered(page) == page, (
        "docs/metrics.md is stale: scripts/run.sh python scripts/render_metrics_doc.py"
    )
