"""The simulator driving the REAL watchdog (Lambda handler, incident engine, moto, local Slack)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.recorded import replay_recorded
from ecs_watchdog.replay.scenario import load_scenario, parse_scenario
from ecs_watchdog.replay.scheduler import Scheduler, policy_configs

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def scenario(name: str):
    return load_scenario(SCENARIOS / f"{name}.json")


@pytest.mark.parametrize(
    "name", ["benign-normal-deploy", "benign-scale-in", "benign-spot-interruption", "benign-user-stop"]
)
def test_benign_scenarios_open_no_incident(name: str) -> None:
    result = runner.run_scenario(scenario(name), "watchdog")  # enforce: it would act if anything called for it
    assert result["notifications"] == []
    assert all(s["right_cause"] is True and s["incident"] is None for s in result["services"].values())
    assert all(s["containment"] is None and s["actions"] == [] for s in result["services"].values())


@pytest.mark.parametrize(
    ("name", "service", "action", "failed"),
    [
        # One task whose only new task crashed: nothing is left to wait for (the breaker at COUNT 1: 1 too).
        ("seed-000-webhook-crash-loop", "hub-server-side-tracking-service", "StopServiceDeployment ROLLBACK", 1),
        # Two tasks failing their ELB health checks together: the second one's failure (COUNT 1: 1).
        ("seed-001-pairva-log-group-and-health-checks", "pairva-frontend", "StopServiceDeployment ROLLBACK", 2),
        # The preflight at the deployment event: no task failed.
        ("seed-002-ava-olo-stuck-deployments", "agricultural-core", "StopServiceDeployment ROLLBACK", 0),
        ("seed-003-scalemap-cloudformation-stuck", "ApiService", "UpdateService desiredCount 1→0", 1),
    ],
)
def test_seeds_are_contained_with_the_right_action_before_the_threshold(
    name: str, service: str, action: str, failed: int
) -> None:
    full = scenario(name)
    result = runner.run_scenario(full, "watchdog")
    contained = result["services"][service]["containment"]
    assert contained is not None and contained["action"].startswith(action)
    assert contained["failed_tasks_before"] == failed
    # Dry-run, for an hour past the minute enforce acted: long enough to see it report instead of acting
    # (seed 001's five days of failures, one invocation each, would cost a minute of the suite).
    hour_after = dataclasses.replace(full, horizon_minutes=min(full.horizon_minutes, contained["minute"] + 60))
    dry = runner.run_scenario(hour_after, "watchdog-dry-run")["services"][service]
    assert dry["containment"] is None  # dry-run reports, and changes nothing
    assert dry["actions"] and all(a["dry_run"] for a in dry["actions"])


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("seed-000-webhook-crash-loop", "container_exit"),
        ("seed-002-ava-olo-stuck-deployments", None),
        ("seed-004-clarity-alb-health-checks", "health_check_elb"),
    ],
)
def test_seed_incidents_are_opened_with_the_right_cause_within_a_few_failures(name: str, category: str | None) -> None:
    result = runner.run_scenario(scenario(name), "watchdog")
    for service in result["services"].values():
        assert service["right_cause"] is True
        # At most the threshold: with the stack's default of no batching window the crossing failure is handed
        # over on its own, not in a batch with the failures after it.
        assert service["incident"] is not None and service["incident"]["failed_tasks_before"] <= 3
    if category:
        assert all(set(s["categories"]) == {category} for s in result["services"].values())


def test_replaying_with_the_real_watchdog_is_deterministic() -> None:
    sc = scenario("seed-000-webhook-crash-loop")
    assert json.dumps(runner.run_scenario(sc, "watchdog")) == json.dumps(runner.run_scenario(sc, "watchdog"))


def test_a_storm_sends_one_message_per_service_not_one_per_failure() -> None:
    document = json.loads((SCENARIOS / "storm-20-services.json").read_text())
    document["services"][0]["copies"] = 3
    document["horizon_minutes"] = 20
    result = runner.run_scenario(parse_scenario(document, "small-storm"), "watchdog")
    failed = sum(s["failed_tasks_total"] for s in result["services"].values())
    sns = [n for n in result["notifications"] if n["channel"] == "sns"]
    assert failed > 150
    assert len(sns) == 3  # one incident per service: 3 services, under the correlated-failure threshold of 5
    assert all(s["right_cause"] is True for s in result["services"].values())


def test_recorded_events_replay_through_the_real_watchdog_in_dry_run(tmp_path: Path) -> None:
    sc = scenario("seed-002-ava-olo-stuck-deployments")
    factory = EnvelopeFactory(seed=sc.seed, region=sc.region, cluster=sc.cluster, start=sc.start_time)
    events = [factory.envelope(e) for e in Scheduler(sc, policy_configs(sc, "none")).run()][:60]
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    result = replay_recorded(path)
    assert result["policy"] == "watchdog-dry-run"
    assert result["services"]["agricultural-core"]["categories"] == {
        "image": result["services"]["agricultural-core"]["failed_tasks"]
    }
    assert any("OPENED ava-olo-production/agricultural-core" in n["text"] for n in result["notifications"])


@pytest.mark.parametrize("name", ["seed-000-webhook-crash-loop", "seed-003-scalemap-cloudformation-stuck"])
def test_each_incident_is_told_once_when_it_opens_is_contained_and_resolves_on_each_channel(name: str) -> None:
    result = runner.run_scenario(scenario(name), "watchdog")
    for channel in ("sns", "slack"):
        said = [n["text"] for n in result["notifications"] if n["channel"] == channel]
        kinds = [k for text in said for k in ("OPENED", "CONTAINED", "RESOLVED") if k in text.split("\n")[0]]
        assert kinds == ["OPENED", "CONTAINED", "RESOLVED"], channel
        # contained in the invocation that opened it: one message says both (webhook and email)
        assert len(said) == 2 and "OPENED AND CONTAINED" in said[0].split("\n")[0], channel


def test_a_failing_revision_deployed_again_after_its_rollback_is_rolled_back_again_not_after_the_cooldown() -> None:
    # Seed 004: the team deploys 8, then 9, then 9 again; each fails its ELB health checks.
    sc = scenario("seed-004-clarity-alb-health-checks")
    watchdog = runner.run_scenario(sc, "watchdog")["services"]["clarity-backend-service"]
    breaker = runner.run_scenario(sc, "circuit-breaker")["services"]["clarity-backend-service"]
    rollbacks = [a for a in watchdog["actions"] if a["action"] == "stop_service_deployment"]
    assert len(rollbacks) == 3  # one per failing deployment, none held back by the cooldown
    # Each is contained at its first failure: minimum healthy 0 %, nothing else serves.
    assert (watchdog["failed_tasks_total"], breaker["failed_tasks_total"]) == (4, 9)
    assert watchdog["final"]["running_revision"] == 7 and watchdog["final"]["healthy_tasks"] == 2
