"""Synthesize the real app (cdk-nag included) once per test session; bundling is skipped here and
exercised on its own in test_packaging.py."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build_app, build_stacks

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / "node" / "bin"
# cdk.json ships without a channel (synth refuses a watchdog that tells nobody); tests give it one.
CHANNEL = {"watchdog:alert_emails": ["oncall@example.com"]}
SLACK_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="session", autouse=True)
def node_22_on_path() -> None:
    """jsii runs on Node; the project pins Node 22 (Node 20 is end-of-life)."""
    if NODE_BIN.exists():
        os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    assert shutil.which("node"), "Node.js is needed to synthesize the CDK app (run scripts/bootstrap.sh)"


def synth(tmp_dir: Path, extra_context: dict[str, Any] | None = None) -> tuple[cdk.App, cdk.Stack]:
    context = {**_cdk_json_context(), **CHANNEL, "aws:cdk:bundling-stacks": [], **(extra_context or {})}
    app = cdk.App(context=context, outdir=str(tmp_dir))
    stack = build_app(app)
    return app, stack


def _cdk_json_context() -> dict[str, Any]:
    return json.loads((ROOT / "cdk.json").read_text())["context"]


def synth_template(out: Path, extra_context: dict[str, Any] | None = None) -> Template:
    """Synthesize (cdk-nag included: an unacknowledged finding raises) and return the stack's template."""
    app, stack = synth(out, extra_context)
    assembly = app.synth()
    return Template.from_json(assembly.get_stack_by_name(stack.stack_name).template)


def shared_synth(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, make: Callable[[Path], Template]
) -> tuple[Template, Path]:
    """`make(out)` once per test run, whatever the number of xdist workers: the first worker to ask
    synthesizes under a lock into the run's shared temp folder, the others read its template (a CDK
    synth costs seconds of CPU; `-n 2` used to pay it once per worker)."""
    if worker_id == "master":
        out = tmp_path_factory.mktemp(name)
        return make(out), out
    out = tmp_path_factory.getbasetemp().parent / name
    saved = out / "template-under-test.json"
    with locked(out.with_suffix(".lock")):
        if not saved.exists():
            out.mkdir(exist_ok=True)
            saved.write_text(json.dumps(make(out).to_json()))
    return Template.from_json(json.loads(saved.read_text())), out


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (a file xdist workers share) for the block."""
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Template, Path]:
    """cdk.json as shipped, plus both channels: email and Slack."""
    return shared_synth(
        tmp_path_factory,
        worker_id,
        "cdk.out",
        lambda out: synth_template(out, {"watchdog:slack_secret_name": "ecs-watchdog/slack-webhook"}),
    )


@pytest.fixture(scope="session")
def template(synthesized: tuple[Template, Path]) -> Template:
    return synthesized[0]


@pytest.fixture(scope="session")
def configured_template(configured_synthesized: tuple[Template, Path]) -> Template:
    return configured_synthesized[0]


@pytest.fixture(scope="session")
def configured_synthesized(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> tuple[Template, Path]:
    return shared_synth(tmp_path_factory, worker_id, "cdk.out.configured", _synth_configured)


def _synth_configured(out: Path) -> Template:
    """Every optional key set: reserved concurrency, a Slack secret under its own key, extra tags, tracing,
    the Slack bot with its buttons (the interactivity function).

    Bound to eu-west-1, the region of SLACK_KEY_ARN (a key in another region is refused)."""
    os.environ["CDK_DEFAULT_REGION"], previous = "eu-west-1", os.environ.get("CDK_DEFAULT_REGION")
    os.environ["CDK_DEFAULT_ACCOUNT"], previous_account = "123456789012", os.environ.get("CDK_DEFAULT_ACCOUNT")
    try:
        template = synth_template(
            out,
            {
                "watchdog:alert_emails": [],
                "watchdog:slack_secret_name": "team/slack",
                "watchdog:slack_secret_kms_key_arn": SLACK_KEY_ARN,
                "watchdog:reserved_concurrency": "8",
                "watchdog:max_concurrency": "4",
                "watchdog:tags": "team=platform,cost-center=42",
                "watchdog:tracing": "true",
                # Slack's buttons: the bot, the app's signing secret, who may press, a reservation.
                "watchdog:slack_bot_secret_name": "team/slack-bot",
                "watchdog:slack_channel": "#alerts",
                "watchdog:slack_signing_secret_name": "team/slack-signing",
                "watchdog:slack_allowed_users": "U0123ONCALL,W0456LEAD",
                "watchdog:slack_allowed_usergroup": "S0789ONCALL",
                "watchdog:slack_reserved_concurrency": "5",
            },
        )
    finally:
        _restore("CDK_DEFAULT_REGION", previous)
        _restore("CDK_DEFAULT_ACCOUNT", previous_account)
    return template


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


# Organization mode: a hub and its members' template.
HUB = "111122223333"
ORG = "o-abcdef1234"


def synth_all(out: Path, context: dict[str, Any]) -> dict[str, tuple[Template, Path]]:
    full = {**_cdk_json_context(), **CHANNEL, "aws:cdk:bundling-stacks": [], **context}
    app = cdk.App(context=full, outdir=str(out))
    stacks = build_stacks(app)
    assembly = app.synth()  # cdk-nag runs here: an unacknowledged finding raises
    return {s.stack_name: (Template.from_json(assembly.get_stack_by_name(s.stack_name).template), out) for s in stacks}


@pytest.fixture(scope="session")
def members(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Template, Path]]:
    """The member template in two regions at once, dry-run (no containment role)."""
    return synth_all(
        tmp_path_factory.mktemp("cdk.out.member"),
        {"watchdog:deployment": "member", "watchdog:hub_account": HUB, "watchdog:regions": "eu-west-1,us-east-1"},
    )


@pytest.fixture(scope="session")
def enforcing_member(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    (found,) = synth_all(
        tmp_path_factory.mktemp("cdk.out.member-enforce"),
        {"watchdog:deployment": "member", "watchdog:hub_account": HUB, "watchdog:mode": "enforce"},
    ).values()
    return found


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    (found,) = synth_all(
        tmp_path_factory.mktemp("cdk.out.hub"),
        {"watchdog:deployment": "hub", "watchdog:organization_id": ORG, "watchdog:member_accounts": "444455556666"},
    ).values()
    return found
