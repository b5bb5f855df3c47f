"""Replaying scenarios: pinned seed results, determinism, the hooks that let a watchdog act, dry-run."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from ecs_watchdog.replay import runner
from ecs_watchdog.replay.command import add_replay_arguments, run_replay
from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.recorded import replay_recorded
from ecs_watchdog.replay.scenario import load_scenario, parse_scenario
from ecs_watchdog.replay.scheduler import Scheduler, policy_configs

from .watchdogs import DisobedientDryRunWatchdog, RollbackWatchdog, ScaleToZeroWatchdog, failed_stop

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"


def scenario(name: str) -> Any:
    return load_scenario(SCENARIOS / f"{name}.json")


@pytest.fixture(autouse=True)
def stop_code_categories(monkeypatch: pytest.MonkeyPatch) -> None:
    """Categories from the stop code, so these tests do not depend on the classifier's rules."""
    monkeypatch.setattr(runner, "categorize", lambda envelope: envelope["detail"]["stopCode"])


# What the model implies for each seed without a watchdog. (scenario, policy, service,
# failed before containment, minutes to containment, failed total, final running revision)
PINNED = [
    ("seed-000-webhook-crash-loop", "none", "hub-server-side-tracking-service", None, None, 205, 11),
    ("seed-000-webhook-crash-loop", "circuit-breaker", "hub-server-side-tracking-service", 3, 1.27, 3, 11),
    ("seed-001-pairva-log-group-and-health-checks", "none", "pairva-backend", None, None, 273, None),
    ("seed-001-pairva-log-group-and-health-checks", "none", "pairva-frontend", None, None, 7298, 3),
    ("seed-001-pairva-log-group-and-health-checks", "circuit-breaker", "pairva-backend", 3, 1.28, 3, None),
    ("seed-001-pairva-log-group-and-health-checks", "circuit-breaker", "pairva-frontend", 3, 2.23, 6, 3),
    ("seed-002-ava-olo-stuck-deployments", "none", "agricultural-core", None, None, 53, 5),
    ("seed-002-ava-olo-stuck-deployments", "none", "monitoring-dashboards", None, None, 27, 8),
    ("seed-002-ava-olo-stuck-deployments", "circuit-breaker", "agricultural-core", 3, 2.08, 3, 5),
    ("seed-002-ava-olo-stuck-deployments", "circuit-breaker", "monitoring-dashboards", 3, 1.16, 6, 8),
    ("seed-003-scalemap-cloudformation-stuck", "none", "ApiService", 265, 209.37, 265, 3),
    ("seed-003-scalemap-cloudformation-stuck", "circuit-breaker", "ApiService", 3, 1.09, 6, 3),
    ("seed-004-clarity-alb-health-checks", "none", "clarity-backend-service", None, None, 67, None),
    ("seed-004-clarity-alb-health-checks", "circuit-breaker", "clarity-backend-service", 3, 2.49, 9, 7),
]


@pytest.mark.parametrize(("name", "policy", "service", "before", "minutes", "total", "revision"), PINNED)
def test_seed_replays_without_watchdog_give_the_figures_the_model_implies(
    name: str, policy: str, service: str, before: int | None, minutes: float | None, total: int, revision: int | None
) -> None:
    result = runner.run_scenario(scenario(name), policy)["services"][service]
    assert result["failed_tasks_before_containment"] == before
    assert result["minutes_to_containment"] == minutes
    assert result["failed_tasks_total"] == total
    assert result["final"]["running_revision"] == revision
    assert result["actions"] == [] and result["right_cause"] is None


def test_seed_002_reproduces_the_reported_53_and_27_failed_tasks_and_two_deployments_in_progress() -> None:
    sc = scenario("seed-002-ava-olo-stuck-deployments")
    s = Scheduler(sc, policy_configs(sc, "none"))
    s.run()
    assert (s.failed_tasks("agricultural-core"), s.failed_tasks("monitoring-dashboards")) == (53, 27)
    rollouts = [d.rollout_state for d in s.service("monitoring-dashboards").deployments]
    assert rollouts == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETED"]


@pytest.mark.parametrize(
    "name", ["benign-normal-deploy", "benign-scale-in", "benign-spot-interruption", "benign-user-stop"]
)
def test_benign_scenarios_have_no_failed_tasks_and_the_watchdog_raises_nothing(name: str) -> None:
    sc = scenario(name)
    for policy in ("none", "circuit-breaker"):
        assert all(s["failed_tasks_total"] == 0 for s in runner.run_scenario(sc, policy)["services"].values())
    result = runner.run_scenario(sc, "watchdog", ScaleToZeroWatchdog)
    assert result["notifications"] == []
    assert all(s["right_cause"] is True and s["actions"] == [] for s in result["services"].values())
    assert result["events"]["ECS Task State Change"] > 0


def test_same_seed_gives_byte_identical_json() -> None:
    sc = scenario("seed-003-scalemap-cloudformation-stuck")
    for policy in ("none", "watchdog"):
        first = json.dumps(runner.run_scenario(sc, policy, ScaleToZeroWatchdog))
        assert first == json.dumps(runner.run_scenario(sc, policy, ScaleToZeroWatchdog))


def test_envelopes_are_identical_across_runs_and_carry_the_documented_fields() -> None:
    sc = scenario("seed-002-ava-olo-stuck-deployments")

    def envelopes() -> list[dict[str, Any]]:
        factory = EnvelopeFactory(seed=sc.seed, region=sc.region, cluster=sc.cluster, start=sc.start_time)
        return [factory.envelope(e) for e in Scheduler(sc).run()]

    first = envelopes()
    assert first == envelopes()
    stopped = next(e for e in first if e["detail-type"] == "ECS Task State Change")
    detail = stopped["detail"]
    assert stopped["resources"] == [detail["taskArn"]]
    assert detail["taskArn"].startswith("arn:aws:ecs:us-east-1:123456789012:task/ava-olo-production/")
    assert len(detail["taskArn"].rsplit("/", 1)[1]) == 32
    assert detail["group"] == "service:agricultural-core" and detail["startedBy"].startswith("ecs-svc/")
    assert detail["taskDefinitionArn"].endswith(":task-definition/agricultural-core:6")
    assert detail["stopCode"] == "TaskFailedToStart"
    assert detail["stoppedReason"].startswith("CannotPullContainerError: pull image manifest has been retried 5")
    deployment = next(e for e in first if e["detail-type"] == "ECS Deployment State Change")
    assert set(deployment["detail"]) == {"eventType", "eventName", "deploymentId", "updatedAt", "reason"}
    assert deployment["resources"] == [
        "arn:aws:ecs:us-east-1:123456789012:service/ava-olo-production/agricultural-core"
    ]


def test_watchdog_scaling_to_zero_through_the_hooks_contains_the_service() -> None:
    result = runner.run_scenario(scenario("seed-000-webhook-crash-loop"), "watchdog", ScaleToZeroWatchdog)
    service = result["services"]["hub-server-side-tracking-service"]
    assert service["failed_tasks_before_containment"] == 3
    assert service["final"]["desired_count"] == 0
    assert service["contained_by"].startswith("UpdateService")
    assert service["right_cause"] is False  # the stand-in categories are stop codes, not container_exit
    [action] = service["actions"]
    assert action["action"] == "update_service"
    assert action["detail"] == "desiredCount 1→0"
    assert action["dry_run"] is False
    assert len(result["notifications"]) == 1


def test_right_cause_compares_the_most_frequent_category_with_the_expectation() -> None:
    result = runner.run_scenario(scenario("seed-002-ava-olo-stuck-deployments"), "watchdog", ScaleToZeroWatchdog)
    assert {n: s["categories"] for n, s in result["services"].items()} == {
        "agricultural-core": {"TaskFailedToStart": 3},
        "monitoring-dashboards": {"TaskFailedToStart": 3},
    }
    assert all(s["right_cause"] is False for s in result["services"].values())


def test_dry_run_changes_nothing_and_reports_intended_actions() -> None:
    sc = scenario("seed-000-webhook-crash-loop")
    baseline = runner.run_scenario(sc, "none")["services"]["hub-server-side-tracking-service"]
    result = runner.run_scenario(sc, "watchdog-dry-run", ScaleToZeroWatchdog)
    service = result["services"]["hub-server-side-tracking-service"]
    assert service["failed_tasks_total"] == baseline["failed_tasks_total"]
    assert service["final"] == baseline["final"]
    assert service["failed_tasks_before_containment"] is None
    assert [(a["action"], a["dry_run"]) for a in service["actions"]] == [("update_service", True)]


def test_dry_run_hooks_refuse_a_state_changing_call() -> None:
    built: list[DisobedientDryRunWatchdog] = []

    def factory(session: Any, clock: Any, dry_run: bool) -> DisobedientDryRunWatchdog:
        built.append(DisobedientDryRunWatchdog(session, clock, dry_run))
        return built[0]

    sc = scenario("seed-000-webhook-crash-loop")
    result = runner.run_scenario(sc, "watchdog-dry-run", factory)
    service = result["services"]["hub-server-side-tracking-service"]
    assert built[0].errors == ["DryRunOperation"]
    assert service["final"]["desired_count"] == 1
    assert (
        service["failed_tasks_total"]
        == runner.run_scenario(sc, "none")["services"]["hub-server-side-tracking-service"]["failed_tasks_total"]
    )
    assert service["actions"][0]["dry_run"] is True


def test_describe_services_shows_the_model_and_stop_service_deployment_rolls_back() -> None:
    built: list[RollbackWatchdog] = []

    def factory(session: Any, clock: Any, dry_run: bool) -> RollbackWatchdog:
        built.append(RollbackWatchdog(session, clock, dry_run))
        return built[0]

    result = runner.run_scenario(scenario("seed-002-ava-olo-stuck-deployments"), "watchdog", factory)
    described = built[0].seen_services[0]
    assert [(d["status"], d["rolloutState"]) for d in described["deployments"]] == [
        ("PRIMARY", "IN_PROGRESS"),
        ("ACTIVE", "COMPLETED"),
    ]
    assert described["deployments"][0]["failedTasks"] == 3
    assert described["deploymentConfiguration"]["deploymentCircuitBreaker"]["enable"] is False
    assert any("unable to consistently start tasks" in e["message"] for e in described["events"])
    service = result["services"]["agricultural-core"]
    assert service["contained_by"].startswith("StopServiceDeployment ROLLBACK")
    assert service["final"] == {"desired_count": 1, "running_revision": 5, "healthy_tasks": 1}
    assert service["actions"][0]["action"] == "stop_service_deployment"


def test_small_storm_gives_one_containment_and_one_message_per_service() -> None:
    document = json.loads((SCENARIOS / "storm-20-services.json").read_text())
    document["services"][0]["copies"] = 3
    document["horizon_minutes"] = 30
    sc = parse_scenario(document, "small-storm")
    unwatched = runner.run_scenario(sc, "none")
    assert 300 < sum(s["failed_tasks_total"] for s in unwatched["services"].values()) < 700
    result = runner.run_scenario(sc, "watchdog", ScaleToZeroWatchdog)
    assert len(result["notifications"]) == 3
    for service in result["services"].values():
        assert service["failed_tasks_before_containment"] is not None
        assert service["failed_tasks_before_containment"] <= 5
        assert service["failed_tasks_total"] <= 10
        assert len(service["actions"]) == 1
        assert service["final"]["desired_count"] == 0


def test_replay_command_exits_2_naming_file_and_key_for_a_bad_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((SCENARIOS / "benign-user-stop.json").read_text())
    document["services"][0]["desired_cuont"] = 2
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(document))
    import argparse

    parser = argparse.ArgumentParser()
    add_replay_arguments(parser)
    assert run_replay(parser.parse_args([str(path)])) == 2
    assert (
        "typo.json: services[0].desired_cuont: unknown key (did you mean 'desired_count'?)" in capsys.readouterr().err
    )


def test_replay_command_prints_the_json_contract_and_a_comparison_table() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_replay_arguments(parser)
    out = io.StringIO()
    path = str(SCENARIOS / "seed-000-webhook-crash-loop.json")
    assert run_replay(parser.parse_args([path, "--policy", "none", "--json"]), out) == 0
    result = json.loads(out.getvalue())
    assert set(result) == {"scenario", "policy", "notifications", "events", "services"}
    assert set(result["services"]["hub-server-side-tracking-service"]) >= {
        "failed_tasks_before_containment",
        "minutes_to_containment",
        "failed_tasks_total",
        "categories",
        "right_cause",
        "actions",
        "final",
    }
    table = io.StringIO()
    args = parser.parse_args(["--policy", "none", "--policy", "circuit-breaker"])
    assert run_replay(args, table) == 0
    assert table.getvalue().count("seed-00") == 14


def test_recorded_events_replay_through_a_dry_run_watchdog(tmp_path: Path) -> None:
    sc = scenario("seed-000-webhook-crash-loop")
    factory = EnvelopeFactory(seed=sc.seed, region=sc.region, cluster=sc.cluster, start=sc.start_time)
    events = [factory.envelope(e) for e in Scheduler(sc, policy_configs(sc, "none")).run()][:40]
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    result = replay_recorded(path, ScaleToZeroWatchdog)
    failed = sum(1 for e in events if failed_stop(e))
    assert result["services"]["hub-server-side-tracking-service"]["failed_tasks"] == failed
    assert [a["action"] for a in result["actions"]] == ["update_service"]
    assert len(result["notifications"]) == 1
