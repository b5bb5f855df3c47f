"""Build the Lambda package locally, without Docker: arm64 wheels from PyPI plus our own package.

Wheels are installed with pip's cross-platform options into a cache keyed by the requirements,
the Python version and the platform, so repeated synths reuse them. botocore is trimmed to the
service models the functions call: the full data folder is ~30 MB of the ~55 MB package.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra.bundle_imports import unresolved_imports

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"
REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
CACHE_DIR = ROOT / ".build" / "lambda-deps"
PYTHON_VERSION = "3.14"  # must match the runtime in functions.py
PLATFORM = "manylinux2014_aarch64"  # arm64 Lambda
PACKAGE = "ecs_watchdog"
# Parts of our package that never run in Lambda: the simulator and its local sandbox.
EXCLUDED_FROM_PACKAGE = ("replay",)
# botocore service models the functions use (and the ones boto3 needs to build any client).
BOTOCORE_SERVICES = frozenset(
    {
        "ecs",
        "sns",
        "sqs",
        "secretsmanager",
        "dynamodb",
        "sts",
        "ecr",
        "logs",
        "elbv2",
        "ssm",
        "cloudwatch",
        "kms",
        "events",
        "application-autoscaling",
        # read-only diagnosis probes (aws/probes.py)
        "ec2",
        "iam",
    }
)


class IncompleteBundleError(RuntimeError):
    """The built package lacks a module our code imports: it would deploy, then fail in Lambda."""


def _cache_key() -> str:
    # The botocore models kept are part of the key: a service added to the list must rebuild the cache.
    recipe = f"{PYTHON_VERSION}|{PLATFORM}|{','.join(sorted(BOTOCORE_SERVICES))}|v1"
    return hashlib.sha256(REQUIREMENTS.read_bytes() + recipe.encode()).hexdigest()[:16]


def cached_dependencies() -> Path | None:
    """The installed wheels' folder when the cache holds the current requirements, without installing."""
    target = CACHE_DIR / _cache_key()
    return target if (target / ".complete").exists() else None


def dependencies_dir() -> Path:
    """Install the pinned wheels for arm64 once; later calls reuse the cached folder."""
    key = _cache_key()
    target = CACHE_DIR / key
    if (target / ".complete").exists():
        return target
    # One builder at a time (pytest -n 2 on a fresh clone had two workers sharing one staging folder).
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / ".complete").exists():  # built while this one waited
            return target
        return _build_dependencies(key, target)


def _build_dependencies(key: str, target: Path) -> Path:
    staging = CACHE_DIR / f"{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--platform",
            PLATFORM,
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            PYTHON_VERSION,
            "--target",
            str(staging),
            "-r",
            str(REQUIREMENTS),
        ],
        check=True,
    )
    _trim_botocore(staging)
    for junk in staging.glob("bin"):
        shutil.rmtree(junk)
    (staging / ".complete").write_text(key)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def _trim_botocore(site: Path) -> None:
    data = site / "botocore" / "data"
    for service in data.iterdir():
        if service.is_dir() and service.name not in BOTOCORE_SERVICES:
            shutil.rmtree(service)


def assemble(output_dir: Path, *, check_imports: bool = True) -> None:
    """Write the whole Lambda package (dependencies + our code) into output_dir, and check it is complete.

    Raises IncompleteBundleError when a module our code imports is missing (unless check_imports is off,
    for tests that inspect such a package themselves)."""
    shutil.copytree(dependencies_dir(), output_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".complete"))
    shutil.copytree(
        FUNCTIONS_DIR / PACKAGE,
        output_dir / PACKAGE,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *EXCLUDED_FROM_PACKAGE),
    )
    # The dev venv is not the bundle: a dependency missing here passes every test and fails only in Lambda.
    missing = unresolved_imports(output_dir, PACKAGE) if check_imports else []
    if missing:
        raise IncompleteBundleError(
            f"the Lambda package lacks modules our code imports ({'; '.join(map(str, missing))}); "
            f"add them to {REQUIREMENTS.relative_to(ROOT)}"
        )


@jsii.implements(ILocalBundling)
class LocalPythonBundling:
    """CDK local bundling: build the package in this process; CDK never falls back to Docker."""

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_: object) -> bool:
        assemble(Path(output_dir))
        return True


def function_code() -> lambda_.Code:
    """The Lambda code asset, bundled locally on every synth (wheels come from the cache)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        asset_hash_type=AssetHashType.OUTPUT,  # covers the pinned wheels and the bundler, not just our sources
        exclude=["**/__pycache__", "**/*.pyc", "*.egg-info"],
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),  # never pulled: local bundling succeeds
            local=LocalPythonBundling(),
        ),
    )
