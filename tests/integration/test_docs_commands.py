"""The docs are tested: every command shown in a ```bash block of the README or docs/cli.md runs in a
test here (or in the test named for it), or is marked as needing an AWS account; and output the docs
show is what the command prints. A new documented command fails this module until it is run or marked."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from ecs_watchdog.cli import main
from tests.integration.replay.test_recorded_any_account import seed_002_events, write

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "README.md", ROOT / "docs" / "cli.md")
# Commands another test runs, and which.
RUN_ELSEWHERE = {
    "make demo": "tests/integration/test_demo.py (ecs-watchdog demo)",
    "make test": "the suite itself",
    # The demo replays every seed under every policy: the same work as a bare `replay`.
    "ecs-watchdog replay": "tests/integration/test_demo.py",
    "ecs-watchdog diagnose --local": "tests/integration/test_diagnose_local.py",
}
# Commands this module runs (normalised: no `.venv/bin/`, no comment), each by the test named.
RUN_HERE = {
    "ecs-watchdog replay --events my-archive.jsonl": "test_replay_events_as_shown",
    "ecs-watchdog replay scenarios/seed-002-ava-olo-stuck-deployments.json --policy watchdog --json": (
        "test_replay_one_scenario_as_json_as_shown"
    ),
}
_AWS = re.compile(r"^aws |cdk (deploy|bootstrap)|make deploy|needs an AWS account")


def shown_commands(path: Path) -> list[str]:
    """Every command line of the file's ```bash blocks, continuation lines joined."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                commands.append(" ".join(line.split()))
    return commands


def normalised(command: str) -> str:
    return re.sub(r"\s+#.*$", "", command).replace(".venv/bin/", "").strip()


def needs_aws(command: str) -> bool:
    return bool(_AWS.search(command))


def test_every_documented_command_runs_in_a_test_or_is_marked_as_needing_an_aws_account():
    commands = [c for path in DOCS for c in shown_commands(path)]
    assert len(commands) > 10
    unaccounted = [
        c
        for c in commands
        if not needs_aws(c)
        and normalised(c) not in RUN_ELSEWHERE
        and normalised(c) not in RUN_HERE
        and not normalised(c).startswith("printf ")  # piped into classify: test_classify_example_as_shown
    ]
    assert unaccounted == [], "run these in a test, or mark them `# needs an AWS account`"
    for test in RUN_ELSEWHERE.values():
        path = test.split(" ")[0]
        assert path == "the" or (ROOT / path).exists(), test
    for test in RUN_HERE.values():
        assert callable(globals()[test]), test


def test_the_aws_commands_are_the_ones_that_reach_an_account():
    assert needs_aws("aws ecs describe-tasks --cluster prod")
    assert needs_aws("scripts/run.sh npx cdk deploy -c watchdog:mode=enforce")
    assert not needs_aws("ecs-watchdog replay")


def test_classify_example_as_shown():
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    command = next(c for c in shown_commands(ROOT / "docs" / "cli.md") if c.startswith("printf "))
    shown = json.loads(re.search(r"prints \(some fields left out here\):\n\n```json\n(.*?)\n```", cli, re.S)[1])
    text = command.split("'")[1].replace("\\n", "\n")
    done = subprocess.run(
        [sys.executable, "-m", "ecs_watchdog.cli", "classify"], input=text, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    printed = json.loads(done.stdout)
    assert {k: printed[k] for k in shown} == shown


def test_render_alert_of_the_stored_transition_as_shown(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = json.loads(
        re.search(r"transition_opened_dry_run\.json`\), its first Slack blocks:\n\n```json\n(.*?)\n```", readme, re.S)[
            1
        ]
    )
    assert main(["render-alert", "tests/fixtures/transition_opened_dry_run.json"]) == 0
    slack = json.loads(capsys.readouterr().out)["slack"]
    assert shown == {"text": slack["text"], "blocks": slack["blocks"][: len(shown["blocks"])]}


@pytest.mark.slow
def test_render_alert_of_a_scenario_moment_as_shown(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"\(`ecs-watchdog (render-alert --scenario [^`]+)`\):\n\n```text\n(.*?)\n```", readme, re.S)
    assert found, "the README shows the email of a scenario moment"
    assert main(found[1].split()) == 0
    email = json.loads(capsys.readouterr().out)["email"]
    assert found[2] == f"Subject: {email['subject']}\n\n{email['body']}".rstrip("\n")


def test_replay_events_as_shown(tmp_path, monkeypatch, capsys):
    write(tmp_path, seed_002_events(40)).rename(tmp_path / "my-archive.jsonl")
    monkeypatch.chdir(tmp_path)
    assert main(["replay", "--events", "my-archive.jsonl"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("40 events from my-archive.jsonl (watchdog in dry-run, account 123456789012 us-east-1)")
    assert "Read 40 events: 1 services" in out


@pytest.mark.slow
def test_replay_one_scenario_as_json_as_shown():
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["replay", "scenarios/seed-002-ava-olo-stuck-deployments.json", "--policy", "watchdog", "--json"])
    result = json.loads(out.getvalue())
    assert status == 0 and result["policy"] == "watchdog"
    assert result["services"]["agricultural-core"]["right_cause"] is True
