"""The Lambda package builds without Docker, holds arm64 wheels and our code, and nothing else."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra import bundling

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lambda-package")
    bundling.assemble(out)
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
