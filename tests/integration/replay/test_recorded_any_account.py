"""`replay --events` replays YOUR incident: an archive from any account and region runs with the sandbox
as that account, says what it did (events, services, incidents, messages, actions), and an archive that
yields nothing says why."""

from __future__ import annotations

import json
from pathlib import Path

from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.recorded import replay_recorded
from ecs_watchdog.replay.recorded_summary import summarize
from ecs_watchdog.replay.report import render_recorded
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.scheduler import Scheduler, policy_configs
from tests.conftest import load_event

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
THEIRS = ("111122223333", "eu-west-1")


def seed_002_events(count: int) -> list[dict]:
    sc = load_scenario(SCENARIOS / "seed-002-ava-olo-stuck-deployments.json")
    factory = EnvelopeFactory(seed=sc.seed, region=sc.region, cluster=sc.cluster, start=sc.start_time)
    return [factory.envelope(e) for e in Scheduler(sc, policy_configs(sc, "none")).run()][:count]


def moved(events: list[dict], account: str, region: str) -> list[dict]:
    """The same events as another account's archive would hold them (every ARN, account and region)."""
    text = json.dumps(events).replace("123456789012", account).replace(sc_region(events), region)
    return json.loads(text)


def sc_region(events: list[dict]) -> str:
    return str(events[0]["region"])


def write(tmp_path: Path, events: list[dict]) -> Path:
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    return path


def test_an_archive_from_another_account_and_region_replays_as_that_account(tmp_path):
    events = seed_002_events(60)
    foreign = moved(events[:3], "444455556666", "ap-south-1")  # a second watchdog's events: not this one's
    result = replay_recorded(write(tmp_path, moved(events, *THEIRS) + foreign))
    summary = result["summary"]
    assert (summary["account"], summary["region"]) == THEIRS
    assert (summary["events_read"], summary["events_replayed"], summary["skipped_other_account_or_region"]) == (
        63,
        60,
        3,
    )
    assert summary["incidents"] == 1 and summary["messages"] >= 2 and summary["actions"] >= 1
    assert "why_nothing" not in summary
    opened = next(n["text"] for n in result["notifications"] if n["channel"] == "sns")
    assert "agricultural-core · ava-olo-production · eu-west-1 · 111122223333" in opened
    text = render_recorded(result)
    assert "account 111122223333 eu-west-1" in text
    assert "3 of 63 events skipped: other accounts or regions" in text
    assert "Read 63 events: 1 services, 30 failed tasks, 1 incidents" in text


def test_an_archive_of_benign_stops_says_why_nothing_was_said(tmp_path):
    stop = load_event("task_state_change_stopped")  # stopped by a person (UserInitiated)
    archive = [
        {**stop, "account": THEIRS[0], "region": THEIRS[1], "id": f"id-{n}", "detail": {**stop["detail"], "version": n}}
        for n in range(1, 5)
    ]
    result = replay_recorded(write(tmp_path, archive))
    assert result["notifications"] == []
    why = result["summary"]["why_nothing"]
    assert why == "all 4 stopped service tasks stopped for benign reasons (scale-in, deployments, people)"
    assert f"Nothing would have been said: {why}." in render_recorded(result)


def test_why_nothing_names_each_reason():
    empty = {"services": {}, "notifications": [], "actions": []}
    assert summarize([], 0, "1", "r", empty)["why_nothing"] == "the file holds no events"
    assert (
        summarize([], 5, "1", "r", empty)["why_nothing"] == "all 5 events are from other accounts or regions than 1 r"
    )
    other = [{"detail-type": "EC2 Instance State-change Notification", "detail": {}}]
    assert summarize(other, 0, "1", "r", empty)["why_nothing"].startswith(
        "none of the 1 events is one the watchdog reads"
    )
    running = [load_event("task_state_change_running")]
    assert summarize(running, 0, "1", "r", empty)["why_nothing"].startswith("no task stopped")
    failed = {"services": {"api": {"failed_tasks": 2, "categories": {"image": 2}}}, "notifications": [], "actions": []}
    stop = load_event("task_state_change_stopped")
    stop["detail"]["group"] = "service:api"
    assert summarize([stop], 0, "1", "r", failed)["why_nothing"].startswith("2 failed tasks opened no incident")
