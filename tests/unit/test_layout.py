"""The house keeps its shape: one folder per capability, floors that run one way, a README that matches
the tree (docs/architecture.md). Read from the source with `ast`, nothing imported."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "ecs_watchdog"

SHARED_TOP_LEVEL = {"__init__", "cli", "conflicts", "events", "models"}  # what every room shares
# Where a boto3 session may be made: the adapters, the wiring, the CLI's commands, the simulator.
MAY_IMPORT_BOTO = ("aws", "wiring", "commands", "replay")
STEPS = {  # each room's steps (its core put to work through adapters): the room's pure modules never import them
    "contain": {"step"},
    "diagnose": {"step", "console"},
    "gate": {"pause", "lambda_hook"},
    "sweep": {"step"},
    "api_errors": {"step"},
    "announce": {"outbox", "channels", "updates"},
    "metrics": {"metering"},
    "flow": {"pipeline", "intake", "state_items", "accounts", "approvals"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names this module imports (modules, or `package.name` for `from package import name`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (the checks below read absolute ones only)"
            assert node.module
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _kin(a: str, b: str) -> bool:
    """A package and one of its own modules (an `__init__` re-exporting them is no cycle of ideas)."""
    return a.startswith(b + ".") or b.startswith(a + ".")


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {name: {i for i in _imports(path) if i in MODULES and i != name} for name, path in MODULES.items()}


def test_top_level_holds_only_what_every_room_shares() -> None:
    loose = {p.stem for p in PACKAGE.glob("*.py")}
    assert loose == SHARED_TOP_LEVEL, f"a loose module beside the rooms: {sorted(loose - SHARED_TOP_LEVEL)}"


def test_readme_table_names_every_room_and_nothing_else() -> None:
    readme = (ROOT / "README.md").read_text()
    header = "| where (`functions/ecs_watchdog/`) |"
    assert header in readme, "the README's 'How it works' table of the package is gone or renamed"
    table = readme[readme.index(header) :].split("\n\n", 1)[0]
    first_cells = [row.split("|")[1] for row in table.splitlines()[2:]]
    named = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)(?:/|\.py)`", cell)}
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    loose = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert named == rooms | loose


def test_only_adapters_wiring_commands_and_the_simulator_import_boto3() -> None:
    offenders = sorted(
        name
        for name, path in MODULES.items()
        if [*name.split("."), ""][1] not in MAY_IMPORT_BOTO
        if any(i.split(".")[0] in ("boto3", "botocore") for i in _imports(path))
    )
    assert offenders == []


def test_no_module_outside_the_simulator_imports_it_but_the_cli() -> None:
    offenders = sorted(
        name
        for name, deps in GRAPH.items()
        if not name.startswith("ecs_watchdog.replay") and name != "ecs_watchdog.cli"
        if any(d.startswith("ecs_watchdog.replay") for d in deps)
    )
    assert offenders == []


def test_a_rooms_pure_modules_never_import_its_step() -> None:
    offenders = []
    for room, steps in STEPS.items():
        step_names = {f"ecs_watchdog.{room}.{s}" for s in steps}
        assert step_names <= MODULES.keys(), f"a step named here is gone: {sorted(step_names - MODULES.keys())}"
        for name, deps in GRAPH.items():
            if name.startswith(f"ecs_watchdog.{room}.") and name not in step_names and deps & step_names:
                offenders.append(f"{name} imports {sorted(deps & step_names)}")
    assert offenders == []


def test_imports_have_no_cycles() -> None:
    graph = {name: {d for d in deps if not _kin(name, d)} for name, deps in GRAPH.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
