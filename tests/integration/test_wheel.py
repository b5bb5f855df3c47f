"""`pip install .` ships the scenarios: the wheel holds every file of scenarios/ as package data, once,
and the installed package finds the seeds (`ecs-watchdog demo`, `replay`, `bench`) through
importlib.resources, with no clone beside it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = ROOT / "functions" / "ecs_watchdog" / "replay" / "scenarios"
IN_WHEEL = "ecs_watchdog/replay/scenarios/"


def test_the_package_reaches_the_top_level_scenarios_through_one_link():
    assert LINK.is_symlink() and LINK.resolve() == (ROOT / "scenarios").resolve()  # one copy of each file


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy of what the wheel is made of: an in-tree build would leave build/ in the clone,
    # and its stale files would reach the next wheel.
    source = tmp_path_factory.mktemp("source")
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "scenarios", source / "scenarios")
    shutil.copytree(
        ROOT / "functions",
        source / "functions",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("ecs_watchdog-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_scenario_and_the_schema_once(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(n.removeprefix(IN_WHEEL) for n in names if n.startswith(IN_WHEEL))
    assert shipped == sorted(p.name for p in (ROOT / "scenarios").glob("*.json"))
    assert "schema.json" in shipped and not [n for n in names if n.startswith("scenarios/")]


@pytest.mark.slow
def test_the_installed_package_finds_the_seed_scenarios_without_a_clone(wheel: Path, tmp_path: Path):
    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)  # a pure-Python wheel unpacked is its installed layout
    code = (
        "import json; from ecs_watchdog.replay.command import scenario_paths; "
        "from ecs_watchdog.replay.scenario import load_scenario; "
        "print(json.dumps([[str(p), load_scenario(p).name] for p in scenario_paths([])]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(installed)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seeds = json.loads(done.stdout)
    assert [name for _, name in seeds] == [p.stem for p in sorted((ROOT / "scenarios").glob("seed-*.json"))]
    assert all(Path(path).is_relative_to(installed) for path, _ in seeds)  # the package's copy, checked on load
