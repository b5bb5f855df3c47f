"""Synthesize the real app (cdk-nag included) once per test session; bundling is skipped here and
exercised on its own in test_packaging.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / "node" / "bin"


@pytest.fixture(scope="session", autouse=True)
def node_22_on_path() -> None:
    """jsii runs on Node; the project pins Node 22 (Node 20 is end-of-life)."""
    if NODE_BIN.exists():
        os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    assert shutil.which("node"), "Node.js is needed to synthesize the CDK app (run scripts/bootstrap.sh)"


def synth(tmp_dir: Path, extra_context: dict[str, Any] | None = None) -> tuple[cdk.App, cdk.Stack]:
    context = {**_cdk_json_context(), "aws:cdk:bundling-stacks": [], **(extra_context or {})}
    app = cdk.App(context=context, outdir=str(tmp_dir))
    stack = build_app(app)
    return app, stack


def _cdk_json_context() -> dict[str, Any]:
    import json

    return json.loads((ROOT / "cdk.json").read_text())["context"]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    out = tmp_path_factory.mktemp("cdk.out")
    app, stack = synth(out, {"watchdog:alert_emails": ["oncall@example.com"]})
    assembly = app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    template = Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)
    return template, out


@pytest.fixture(scope="session")
def template(synthesized: tuple[Template, Path]) -> Template:
    return synthesized[0]
