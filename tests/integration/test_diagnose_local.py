"""`ecs-watchdog diagnose` reads like the rest: `--local` shows a real report with no account, and what
stops every probe (an unknown service, no credentials) is said once, in one line."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout

import boto3
import pytest

from ecs_watchdog.cli import main
from ecs_watchdog.commands.diagnose import add_diagnose_arguments, run_diagnose
from ecs_watchdog.replay import diagnose_sandbox


@pytest.fixture(scope="module")
def planted() -> Iterator[boto3.Session]:
    """One sandbox with the planted service for the tests that call the command's code directly."""
    with diagnose_sandbox.planted_account() as session:
        yield session


def diagnose(session: boto3.Session, *argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    add_diagnose_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    status = run_diagnose(parser.parse_args(["--cluster", diagnose_sandbox.CLUSTER, *argv]), out, err, session)
    return status, out.getvalue(), err.getvalue()


def test_diagnose_local_finds_the_planted_missing_log_group_without_an_account():
    out = io.StringIO()
    with redirect_stdout(out):
        status = main(["diagnose", "--local"])
    lines = out.getvalue().splitlines()
    assert status == 1  # a probe found a cause
    assert lines[0] == (
        f"ecs-watchdog diagnosis — {diagnose_sandbox.SERVICE} in {diagnose_sandbox.CLUSTER}: "
        "1 of 8 probes found a cause (logging)"
    )
    assert f"[FAIL] logging: backend: log group {diagnose_sandbox.MISSING_LOG_GROUP} does not exist" in lines
    assert "[PASS] image: every ECR image exists" in lines


def test_json_is_for_machines(planted):
    status, out, _ = diagnose(planted, "--service", diagnose_sandbox.SERVICE, "--json")
    report = json.loads(out)
    assert status == 1 and report["verdict"] == "fail" and report["service"] == diagnose_sandbox.SERVICE


def test_an_unknown_service_is_one_line_not_a_block_per_probe(planted):
    status, out, err = diagnose(planted, "--service", "no-such-service")
    assert status == 2 and out == ""
    assert err == (
        "ecs-watchdog diagnose: nothing could be checked: ECS does not know service no-such-service in cluster "
        f"{diagnose_sandbox.CLUSTER}\n"
    )


def test_missing_credentials_are_one_line(monkeypatch, capsys):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata wait on a laptop
    assert main(["diagnose", "--cluster", "prod", "--service", "api", "--region", "eu-west-1"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "no AWS credentials" in captured.err
