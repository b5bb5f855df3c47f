"""The Lambda package builds without Docker, holds arm64 wheels and our code, and nothing else."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import bundle_imports, bundling

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lambda-package")
    bundling.assemble(out, check_imports=False)  # checked by its own test below, to name what is missing
    return out


def test_package_holds_our_code_without_the_simulator(package: Path):
    assert (package / "ecs_watchdog" / "handlers" / "ecs_events.py").exists()
    assert (package / "ecs_watchdog" / "classify" / "rules.toml").exists()
    assert not (package / "ecs_watchdog" / "replay").exists()
    assert not list(package.rglob("__pycache__"))


def test_package_holds_arm64_wheels_for_the_runtime(package: Path):
    (core,) = package.glob("pydantic_core/_pydantic_core.cpython-314-aarch64-linux-gnu.so")
    assert core.stat().st_size > 0
    assert (package / "aws_lambda_powertools").is_dir()


def test_package_holds_slack_sdk_and_it_imports_from_the_package(package: Path):
    # slack_sdk is pure Python, so the arm64 package's copy imports on this machine.
    code = "import slack_sdk.webhook, slack_sdk.http_retry; print(slack_sdk.__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(package)}, capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.strip()).is_relative_to(package)


def test_package_holds_slack_bolt_and_its_lambda_adapter_imports_from_the_package(package: Path):
    # The interactivity function's handler (slack_bolt is pure Python: the arm64 package's copy imports here).
    code = "import slack_bolt.adapter.aws_lambda as a, slack_bolt; print(slack_bolt.__file__, a.SlackRequestHandler)"
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(package)}, capture_output=True, text=True, check=True
    )
    assert Path(done.stdout.split()[0]).is_relative_to(package)
    assert (package / "ecs_watchdog" / "handlers" / "slack_interactions.py").exists()


def test_trimmed_botocore_still_knows_every_service_the_functions_call(package: Path):
    used = sorted(bundling.BOTOCORE_SERVICES)
    code = (
        "import sys, json; import botocore.session as s; session = s.get_session(); "
        f"print(json.dumps([session.get_service_model(n).service_name for n in {used!r}]))"
    )
    # botocore is pure Python, so the arm64 package's copy imports on this machine.
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(package)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(done.stdout)) == len(used)
    assert not (package / "botocore" / "data" / "s3").exists()


def test_botocore_keeps_every_service_the_probes_call():
    # Every `clients.client("<service>"...)` in the probe adapters, read from their source.
    adapters = bundling.FUNCTIONS_DIR / bundling.PACKAGE / "aws"
    source = "".join((adapters / name).read_text() for name in ("probes.py", "diagnosis.py"))
    probed = set(re.findall(r"clients\.client\(\"([a-z0-9-]+)\"", source))
    assert {"ecs", "ecr", "ec2", "iam", "elbv2", "logs", "ssm", "secretsmanager"} <= probed
    assert probed <= bundling.BOTOCORE_SERVICES


def test_zipped_package_is_small(package: Path, tmp_path: Path):
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in package.rglob("*"):
            zipped.write(path, path.relative_to(package))
    assert archive.stat().st_size < 15 * 1024 * 1024  # Lambda allows 50 MB zipped; keep cold starts lean


def test_every_module_our_code_imports_is_in_the_package_or_the_standard_library(package: Path):
    assert bundle_imports.unresolved_imports(package) == []
    # Tracer imports the X-Ray SDK only when `watchdog:tracing=true`: it must be bundled all the same.
    assert bundle_imports.holds_module(package, "aws_xray_sdk")


def _fake_bundle(root: Path, handler_source: str, *, installed: tuple[str, ...]) -> Path:
    (root / "ecs_watchdog" / "handlers").mkdir(parents=True)
    (root / "ecs_watchdog" / "__init__.py").write_text("")
    (root / "ecs_watchdog" / "handlers" / "ecs_events.py").write_text(handler_source)
    for name in installed:
        (root / name).mkdir()
    return root


LAZY_TRACER_HANDLER = """
from __future__ import annotations
import json, os
from typing import TYPE_CHECKING
from aws_lambda_powertools import Logger
from . import sibling
from ecs_watchdog.models import Stop
if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
if os.environ.get("WATCHDOG_TRACING") == "true":
    from aws_lambda_powertools import Tracer
"""


def test_a_lazily_imported_tracer_without_the_xray_sdk_is_reported(tmp_path: Path):
    bundle = _fake_bundle(tmp_path, LAZY_TRACER_HANDLER, installed=("aws_lambda_powertools",))
    assert [str(u) for u in bundle_imports.unresolved_imports(bundle)] == [
        "ecs_watchdog/handlers/ecs_events.py needs 'aws_xray_sdk'"
    ]


def test_a_bundle_with_the_xray_sdk_satisfies_the_same_code(tmp_path: Path):
    bundle = _fake_bundle(tmp_path, LAZY_TRACER_HANDLER, installed=("aws_lambda_powertools", "aws_xray_sdk"))
    assert bundle_imports.unresolved_imports(bundle) == []


@pytest.mark.parametrize(
    ("source", "missing"),
    [
        ("import pydantic_core\n", "pydantic_core"),
        ("def f():\n    import slack_sdk\n", "slack_sdk"),
        ("from aws_lambda_powertools.utilities.parser import parse\n", "pydantic"),
        ("import imghdr\n", "imghdr"),  # stdlib on the 3.11 build host, gone in the 3.14 runtime
    ],
)
def test_missing_modules_are_reported(tmp_path: Path, source: str, missing: str):
    bundle = _fake_bundle(tmp_path, source, installed=("aws_lambda_powertools",))
    assert [u.module for u in bundle_imports.unresolved_imports(bundle)] == [missing]


def test_assembling_an_incomplete_package_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    functions = tmp_path / "functions"
    _fake_bundle(functions, "import slack_sdk\n", installed=())
    dependencies = _fake_bundle(tmp_path / "deps", "", installed=("boto3",))
    monkeypatch.setattr(bundling, "FUNCTIONS_DIR", functions)
    monkeypatch.setattr(bundling, "dependencies_dir", lambda: dependencies)
    with pytest.raises(bundling.IncompleteBundleError, match=r"ecs_watchdog/handlers/ecs_events\.py needs 'slack_sdk'"):
        bundling.assemble(tmp_path / "out")


def test_package_holds_the_sweep_handler(package: Path):
    assert (package / "ecs_watchdog" / "handlers" / "sweep.py").exists()
