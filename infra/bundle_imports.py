"""What a built Lambda package must hold: every module our code imports, found by reading it (AST).

The package is arm64 wheels for Python 3.14, so it cannot be imported on the build host: the check is
static. It reads every module of our package in the bundle, collects each absolute import (also those
inside functions or `if` blocks: a lazily imported Tracer fails just the same in Lambda), adds the
modules Powertools imports only when a feature is used, and reports each whose top-level name is
neither in the bundle nor in the 3.14 standard library. Imports under `if TYPE_CHECKING:` never run.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# In the 3.11 stdlib list of the build host, gone by the 3.14 runtime (PEP 594 and earlier removals).
REMOVED_FROM_STDLIB_BY_3_14 = frozenset(
    {
        "asynchat",
        "asyncore",
        "distutils",
        "imp",
        "smtpd",
        "aifc",
        "audioop",
        "cgi",
        "cgitb",
        "chunk",
        "crypt",
        "imghdr",
        "lib2to3",
        "mailcap",
        "msilib",
        "nis",
        "nntplib",
        "ossaudiodev",
        "pipes",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
    }
)
RUNTIME_STDLIB = frozenset(sys.stdlib_module_names) - REMOVED_FROM_STDLIB_BY_3_14
# Powertools imports these lazily, only when the feature is used, so `import aws_lambda_powertools`
# succeeds without them and the function fails later (Tracer → X-Ray SDK; parser models → pydantic).
POWERTOOLS_FEATURE_IMPORTS = {
    "aws_lambda_powertools.Tracer": "aws_xray_sdk",
    "aws_lambda_powertools.tracing": "aws_xray_sdk",
    "aws_lambda_powertools.utilities.parser": "pydantic",
}


@dataclass(frozen=True)
class UnresolvedImport:
    """A module our code needs that the package does not hold, and the file that needs it."""

    module: str
    needed_by: str

    def __str__(self) -> str:
        return f"{self.needed_by} needs {self.module!r}"


def imported_modules(source: str) -> set[str]:
    """Dotted names of every absolute import in `source`; `from a import b` gives `a.b`."""
    names: set[str] = set()
    for node in _reachable_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _reachable_nodes(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (n for stmt in child.orelse for n in _reachable_nodes(stmt))
        else:
            yield from _reachable_nodes(child)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def required_top_level_modules(name: str) -> set[str]:
    """The top-level modules importing `name` needs: its own, and any Powertools feature dependency."""
    needed = {name.split(".", 1)[0]}
    for feature, dependency in POWERTOOLS_FEATURE_IMPORTS.items():
        if name == feature or name.startswith(feature + "."):
            needed.add(dependency)
    return needed


def holds_module(package_root: Path, top_level: str) -> bool:
    """Whether the package has `top_level` as a package, a module or a compiled extension."""
    return (
        (package_root / top_level).is_dir()
        or (package_root / f"{top_level}.py").is_file()
        or any(package_root.glob(f"{top_level}.*so"))
    )


def unresolved_imports(package_root: Path, package: str = "ecs_watchdog") -> list[UnresolvedImport]:
    """Every import of `package`'s modules in the built bundle that neither the bundle nor the stdlib satisfies."""
    unresolved: set[UnresolvedImport] = set()
    for path in sorted((package_root / package).rglob("*.py")):
        needed_by = str(path.relative_to(package_root))
        for name in imported_modules(path.read_text(encoding="utf-8")):
            for top_level in required_top_level_modules(name):
                if top_level not in RUNTIME_STDLIB and not holds_module(package_root, top_level):
                    unresolved.add(UnresolvedImport(top_level, needed_by))
    return sorted(unresolved, key=lambda u: (u.module, u.needed_by))
