"""A plain `pip install ecs-watchdog` (no `local` extra): --help works, classify works, and every command
that needs the offline sandbox says in one line which extra to install, instead of a traceback.

The missing extra is simulated in a fresh interpreter by a meta-path finder that refuses its modules,
exactly as an interpreter without them installed would (ModuleNotFoundError with the module's name).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import load_event

ROOT = Path(__file__).resolve().parents[2]

# Runs each argv list through the CLI's main() with the sandbox's modules unimportable; prints, per run,
# the exit status and what went to stdout and stderr, as one JSON document.
DRIVER = """
import contextlib, importlib.abc, io, json, sys

BLOCKED = {"moto", "jsonschema", "yaml", "rich"}

class WithoutSandbox(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, WithoutSandbox())
for name in [m for m in sys.modules if m.partition(".")[0] in BLOCKED]:
    del sys.modules[name]
from ecs_watchdog.cli import main

runs = []
for argv, stdin in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    sys.stdin = io.StringIO(stdin)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit:
            status = exit.code
    runs.append({"status": status, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(runs))
"""

SANDBOX_COMMANDS = [
    ["demo"],
    ["replay"],
    ["replay", "scenarios/seed-000-webhook-crash-loop.json", "--policy", "none"],
    ["bench", "--smoke", "--json", "/dev/null"],
    ["render-alert", "--scenario", "scenarios/seed-000-webhook-crash-loop.json", "--minute", "5"],
]


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    stopped = json.dumps(load_event("task_state_change_stopped")) + "\n"
    argvs = [(["--help"], ""), (["replay", "--help"], ""), (["classify"], stopped)]
    argvs += [(argv, "") for argv in SANDBOX_COMMANDS]
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(argvs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'functions'}:{ROOT}", "PATH": "/usr/bin:/bin"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_help_lists_every_subcommand_without_the_sandbox(runs):
    help_run = runs[0]
    assert help_run["status"] == 0
    for command in ("demo", "classify", "replay", "restore", "diagnose", "render-alert", "bench"):
        assert command in help_run["stdout"]


def test_a_sandbox_commands_help_says_which_extra_to_install(runs):
    assert runs[1]["status"] == 0
    assert "pip install 'ecs-watchdog[local]'" in runs[1]["stdout"]


def test_classify_needs_no_sandbox(runs):
    classify = runs[2]
    assert classify["status"] == 0, classify["stderr"]
    assert json.loads(classify["stdout"])["category"] == "user"


@pytest.mark.parametrize("index", range(len(SANDBOX_COMMANDS)), ids=[" ".join(a[:2]) for a in SANDBOX_COMMANDS])
def test_a_command_that_needs_the_sandbox_says_so_in_one_line(runs, index):
    run = runs[3 + index]
    command = SANDBOX_COMMANDS[index][0]
    assert run["status"] == 2
    assert run["stdout"] == ""
    (line,) = run["stderr"].splitlines()
    assert line.startswith(f"ecs-watchdog {command}: needs the offline sandbox")
    assert line.endswith("pip install 'ecs-watchdog[local]'")
