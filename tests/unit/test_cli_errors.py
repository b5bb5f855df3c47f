"""Every `ecs-watchdog` error is one line on stderr and a non-zero exit, never a traceback; `--debug`
(anywhere on the line) shows the traceback."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from ecs_watchdog.cli import main
from ecs_watchdog.commands.errors import one_line
from ecs_watchdog.replay import command

SCENARIO = "scenarios/seed-000-webhook-crash-loop.json"


def test_an_unexpected_error_is_one_line_and_exit_one(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("the mirror lost its place\nat minute 3")

    monkeypatch.setattr(command, "run_replay", broken)
    assert main(["replay", SCENARIO]) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "ecs-watchdog replay: RuntimeError: the mirror lost its place at minute 3 (--debug shows where)\n"
    )


@pytest.mark.parametrize("argv", [["--debug", "replay", SCENARIO], ["replay", SCENARIO, "--debug"]])
def test_debug_anywhere_shows_the_traceback(monkeypatch, argv):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "run_replay", broken)
    with pytest.raises(RuntimeError, match="boom"):
        main(argv)


def test_render_alert_given_a_scenario_without_the_flag_says_so_in_one_line(capsys):
    assert main(["render-alert", SCENARIO]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"ecs-watchdog render-alert: {SCENARIO} is a replay scenario, not a stored transition: "
        f"give it as --scenario {SCENARIO} (with --minute M for a moment of it)\n"
    )


def test_render_alert_of_something_else_names_its_first_problem_in_one_line(tmp_path, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"id": "x"}))
    assert main(["render-alert", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ecs-watchdog render-alert: {path}: not a stored transition: ")


def test_aws_errors_read_as_one_line_with_what_to_do():
    assert one_line(NoCredentialsError()).startswith("no AWS credentials: run `aws configure`")
    refused = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not\nallowed"}}, "UpdateService")
    assert one_line(refused) == "UpdateService: AccessDeniedException: not allowed"
