"""Scenario files: every committed one loads; mistakes are reported with file, key and a hint."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from ecs_watchdog.replay.scenario import Delivery, ScenarioError, load_scenario, parse_scenario
from infra.config import WatchdogConfig

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
COMMITTED = sorted(p for p in SCENARIOS.glob("*.json") if p.name != "schema.json")

VALID: dict[str, Any] = {
    "name": "x",
    "seed": 7,
    "region": "us-east-1",
    "cluster": "prod",
    "horizon_minutes": 60,
    "environment": {"secrets": {"prod/db": "{}"}, "log_groups": ["/ecs/api"]},
    "services": [
        {
            "name": "api",
            "desired_count": 2,
            "deployment": {"circuit_breaker": False, "rollback": False},
            "revisions": [
                {"revision": 5, "image": "api:v1", "behaviour": {"kind": "healthy"}},
                {"revision": 6, "image": "api:v2", "behaviour": {"kind": "crash", "exit_code": 1}},
            ],
            "running_revision": 5,
        }
    ],
    "timeline": [{"at_minute": 0, "deploy": {"service": "api", "revision": 6}}],
    "expect": {"api": {"category": "container_exit"}},
}


def write(tmp_path: Path, document: dict[str, Any], name: str = "x.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def error_for(tmp_path: Path, change: Any) -> str:
    document = copy.deepcopy(VALID)
    change(document)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, document))
    return str(caught.value)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_every_committed_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert set(scenario.expect) == {s.name for s in scenario.services}


def test_seed_scenarios_cover_all_five_reports() -> None:
    assert [p.name[:8] for p in COMMITTED if p.name.startswith("seed-")] == [f"seed-00{i}" for i in range(5)]


def test_misspelt_key_names_file_key_and_the_key_meant(tmp_path: Path) -> None:
    def typo(d: dict[str, Any]) -> None:
        d["services"][0]["deployment"]["circut_breaker"] = True

    message = error_for(tmp_path, typo)
    assert message == (
        f"{tmp_path / 'x.json'}: services[0].deployment.circut_breaker: unknown key (did you mean 'circuit_breaker'?)"
    )


def test_key_that_a_behaviour_kind_does_not_use_is_an_error(tmp_path: Path) -> None:
    def stray(d: dict[str, Any]) -> None:
        d["services"][0]["revisions"][1]["behaviour"] = {"kind": "fail_to_start", "stopped_reason": "x", "exit_code": 1}

    message = error_for(tmp_path, stray)
    assert "services[0].revisions[1].behaviour.exit_code: not used by behaviour kind 'fail_to_start'" in message


def test_unknown_behaviour_kind_suggests_the_closest(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["services"][0]["revisions"][1]["behaviour"].update(kind="crashh"))
    assert "services[0].revisions[1].behaviour.kind: 'crashh' is not allowed (did you mean 'crash'?)" in message


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["services"][0].pop("desired_count"))
    assert "services[0].desired_count: missing required key" in message


def test_timeline_entry_needs_exactly_one_action(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["timeline"][0].update(scale={"service": "api", "desired_count": 0}))
    assert "timeline[0]: needs at_minute and exactly one action" in message


def test_timeline_naming_an_unknown_service_suggests_one(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["timeline"][0]["deploy"].update(service="apl"))
    assert "timeline[0].deploy.service: no service 'apl' (did you mean 'api'?)" in message


def test_running_revision_must_be_listed(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["services"][0].update(running_revision=4))
    assert "services[0].running_revision: revision 4 is not in revisions (has 5, 6)" in message


def test_event_after_the_horizon_is_an_error(tmp_path: Path) -> None:
    message = error_for(tmp_path, lambda d: d["timeline"][0].update(at_minute=61))
    assert "timeline[0].at_minute" in message and "after horizon_minutes" in message


def test_oom_container_must_exist(tmp_path: Path) -> None:
    def oom(d: dict[str, Any]) -> None:
        d["services"][0]["revisions"][1]["behaviour"] = {"kind": "oom", "container": "sidecar"}

    assert "behaviour.container: no container 'sidecar'" in error_for(tmp_path, oom)


def test_benign_expectation_and_yaml_are_accepted(tmp_path: Path) -> None:
    document = copy.deepcopy(VALID)
    document["expect"] = {"api": {"incident": False}}
    path = tmp_path / "x.yaml"
    import yaml

    path.write_text(yaml.safe_dump(document))
    scenario = load_scenario(path)
    assert not scenario.expect["api"].incident


def test_copies_expand_services_timeline_and_expectations() -> None:
    document = copy.deepcopy(VALID)
    document["services"][0]["copies"] = 3
    scenario = parse_scenario(document)
    assert [s.name for s in scenario.services] == ["api-01", "api-02", "api-03"]
    assert [e.action.service for e in scenario.timeline] == ["api-01", "api-02", "api-03"]
    assert set(scenario.expect) == {"api-01", "api-02", "api-03"}


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x",\n  "seed": }')
    with pytest.raises(ScenarioError, match=r"bad.json: not valid JSON at line 2"):
        load_scenario(path)


def test_delivery_defaults_to_the_deployed_stacks_batching_and_can_be_set(tmp_path: Path) -> None:
    delivery = load_scenario(write(tmp_path, VALID)).delivery
    assert delivery == Delivery(0.0, 0.0, 10)
    stack = WatchdogConfig()  # the stack's defaults for watchdog:batching_window_seconds and watchdog:batch_size
    assert (delivery.batching_window_seconds, delivery.batch_size) == (stack.batching_window_seconds, stack.batch_size)
    defaults = json.loads((SCENARIOS / "schema.json").read_text())["$defs"]["delivery"]["properties"]
    assert {key: spec["default"] for key, spec in defaults.items()} == dataclasses.asdict(delivery)
    document = {**VALID, "delivery": {"eventbridge_to_sqs_seconds": 1.5, "batching_window_seconds": 5}}
    assert load_scenario(write(tmp_path, document)).delivery == Delivery(1.5, 5.0, 10)


def test_a_delivery_the_event_source_cannot_have_is_named(tmp_path: Path) -> None:
    def eleven(d: dict[str, Any]) -> None:
        d["delivery"] = {"batch_size": 11}

    def typo(d: dict[str, Any]) -> None:
        d["delivery"] = {"batching_window": 0}

    assert error_for(tmp_path, eleven).endswith("delivery.batch_size: 11 is greater than the maximum of 10")
    assert "delivery.batching_window: unknown key (did you mean 'batching_window_seconds'?)" in error_for(
        tmp_path, typo
    )
