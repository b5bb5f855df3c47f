"""`ecs-watchdog render-alert`: the Slack blocks and the email of a stored transition or of a scenario moment.

    ecs-watchdog render-alert transition.json                      # a Transition as stored (JSON)
    ecs-watchdog render-alert --scenario scenarios/seed-001-*.json --minute 30

A stored transition is rendered by the same functions the channels call; a scenario moment is the
replay's own messages (the watchdog policy, through the real handler) sent at or before that minute.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from ecs_watchdog.announce.render import render_transition_slack, render_transition_sns, sns_attributes
from ecs_watchdog.incidents.model import Transition
from ecs_watchdog.incidents.service_ref import ServiceRef

OPTIONAL_ATTRIBUTES = ("action", "probes", "stopped_task")  # read by announce/content.py when present


def add_render_alert_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the render-alert command's arguments to `parser`."""
    parser.add_argument("transition", nargs="?", metavar="TRANSITION.json", help="a stored transition (JSON)")
    parser.add_argument("--scenario", metavar="FILE", help="a replay scenario instead of a stored transition")
    parser.add_argument("--minute", type=float, default=None, help="with --scenario: the moment (default: the end)")
    parser.add_argument("--runbook-base-url", default=None, help="https base URL the runbook path is appended to")


def transition_from_json(raw: dict[str, Any]) -> Transition:
    """A Transition with the optional containment/probe attributes kept even before the model declares them."""
    transition = Transition.model_validate(raw)
    extra = {k: raw[k] for k in OPTIONAL_ATTRIBUTES if k in raw and getattr(transition, k, None) is None}
    return transition.model_copy(update=extra) if extra else transition


def render_stored(raw: dict[str, Any], runbook_base_url: str | None) -> dict[str, Any]:
    """Slack payload, email subject/body and SNS attributes of one stored transition."""
    transition = transition_from_json(raw)
    account, region, cluster, name = transition.incident.service.split("/", 3)
    ref = ServiceRef(account=account, region=region, cluster=cluster, name=name)
    email = render_transition_sns(transition, ref, runbook_base_url)
    return {
        "slack": render_transition_slack(transition, ref, runbook_base_url),
        "email": {"subject": email.subject, "body": email.body},
        "sns_attributes": sns_attributes(transition, ref),
    }


def render_scenario_moment(path: Path, minute: float | None) -> dict[str, Any]:
    """The last Slack payload and email the watchdog sent at or before `minute` of the scenario's replay."""
    from ecs_watchdog.replay.runner import run_scenario
    from ecs_watchdog.replay.scenario import load_scenario

    sent = [
        n
        for n in run_scenario(load_scenario(path), "watchdog")["notifications"]
        if minute is None or n["minute"] <= minute
    ]
    slack = [n for n in sent if n["channel"] == "slack"]
    emails = [n for n in sent if n["channel"] == "sns"]
    result: dict[str, Any] = {"minute": minute, "messages_so_far": len(sent)}
    if slack:
        result["slack"] = {"minute": slack[-1]["minute"], **json.loads(slack[-1]["text"])}
    if emails:
        subject, _, body = emails[-1]["text"].partition("\n")
        result["email"] = {"minute": emails[-1]["minute"], "subject": subject, "body": body}
    return result


def run_render_alert(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the rendering as JSON; 2 when the input cannot be read."""
    try:
        if args.scenario:
            result = render_scenario_moment(Path(args.scenario), args.minute)
        elif args.transition:
            raw = json.loads(Path(args.transition).read_text(encoding="utf-8"))
            result = render_stored(raw, args.runbook_base_url)
        else:
            err.write("ecs-watchdog render-alert: give a TRANSITION.json or --scenario FILE\n")
            return 2
    except (OSError, ValueError) as error:  # ValueError: bad JSON, a Transition that does not validate
        err.write(f"ecs-watchdog render-alert: {error}\n")
        return 2
    out.write(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0
