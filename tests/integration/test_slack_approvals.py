"""Approve mode end to end through Slack's edge, on moto: the real events handler opens an incident and proposes,
the bot's living message (a local fake Slack on 127.0.0.1) shows the buttons, and a signed press of one goes
through the deployed `handlers.slack_interactions.handler` to the real click desk — which carries the proposal
out once, edits the message, and answers the person who clicked privately. One sandbox for the module: each test
has a service of its own."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest

from ecs_watchdog.approvals.click import ButtonKind
from ecs_watchdog.aws.slack_bot import SlackBot
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.handlers import ecs_events, slack_interactions
from ecs_watchdog.replay.sandbox import LocalAccount, audit_events, local_account
from ecs_watchdog.wiring.settings import ENVIRONMENT
from tests.integration.fake_slack import FakeSlack, fake_slack
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, bodies, stopped, td
from tests.integration.service_setup import create_service, invoke
from tests.integration.slack_requests import SIGNING_SECRET, SIGNING_SECRET_NAME, SignedPresses
from tests.integration.test_containment import moto_service, serving

ONCALL = "U0123ONCALL"  # the user of Slack's documented block_actions payload (tests/fixtures/slack)
BOT_SECRET = "ecs-watchdog/slack-bot"


class Desk:
    """The sandbox in approve mode with the Slack bot, the interactivity function's environment, the presses."""

    def __init__(self, sandbox: LocalAccount, slack: FakeSlack, press: SignedPresses) -> None:
        self.sandbox, self.slack, self.press = sandbox, slack, press

    def propose(self, service: str, first: int) -> None:
        """A failing rollout of `service` with old tasks serving: an incident with a rollback proposed."""
        create_service(self.sandbox, name=service)
        serving(old_running=2, name=service)
        invoke(bodies(*(stopped(n, n / 100, service=service) for n in range(first, first + 3))))

    def writes(self, service: str) -> list[str]:
        """The state-changing ECS calls made on `service` (the simulated service deployments see every one)."""
        assert self.sandbox.service_deployments is not None
        return [
            name
            for name, params in self.sandbox.service_deployments.calls
            if name != "ListServiceDeployments" and f"/{service}" in json.dumps(params) + f"/{params.get('service')}"
        ]


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with approving_through_slack() as approving:
        yield approving


@contextlib.contextmanager
def approving_through_slack(**settings: Any) -> Iterator[Desk]:
    """The sandbox as the stack deploys approve mode with the bot and the signing secret; `settings` change
    the defaults (scripts/bench_clicks.py raises the account's hourly action cap)."""
    with local_account() as sandbox, fake_slack() as slack:
        secrets = sandbox.session.client("secretsmanager")
        secrets.create_secret(Name=BOT_SECRET, SecretString=json.dumps({"bot_token": "xoxb-1111-2222-approvals"}))
        secrets.create_secret(Name=SIGNING_SECRET_NAME, SecretString=json.dumps({"signing_secret": SIGNING_SECRET}))
        settings = sandbox.settings.model_copy(
            update={
                "mode": Mode.APPROVE,
                "slack_secret_name": None,  # bot mode: the buttons are the bot's
                "slack_bot_secret_name": BOT_SECRET,
                "slack_channel": "#alerts",
                "correlated_services": 50,  # this module's services fail alike on purpose; no pause for that
                **settings,
            }
        )
        sandbox.settings = settings
        environment = {n: str(getattr(settings, f)) for n, f in ENVIRONMENT.items() if getattr(settings, f)}
        environment |= {
            "WATCHDOG_SLACK_SIGNING_SECRET_NAME": SIGNING_SECRET_NAME,
            "WATCHDOG_SLACK_ALLOWED_USERS": ONCALL,
        }
        original = SlackBot.from_secret.__func__  # type: ignore[attr-defined]
        with (
            mock.patch.object(
                SlackBot,
                "from_secret",
                classmethod(lambda cls, *a, **k: original(cls, *a, **{"base_url": slack.api_base_url, **k})),
            ),
            mock.patch.dict(os.environ, environment),
            # The deployed function's boto3.Session() is this sandbox's (its simulated service deployments).
            mock.patch.object(boto3, "Session", return_value=sandbox.session),
        ):
            ecs_events.install(settings, sandbox.session)
            handler = importlib.reload(slack_interactions).handler  # a cold start of the deployed entry point
            yield Desk(sandbox, slack, SignedPresses(handler, slack, f"{ACCOUNT}/{REGION}/{CLUSTER}"))


def test_an_approved_proposal_rolls_back_once_edits_the_message_and_answers_the_clicker(desk: Desk):
    desk.propose("approved", first=101)
    assert desk.writes("approved") == []  # approve mode proposes: nothing called before the press
    reply = desk.press("approved", ButtonKind.APPROVE)
    assert reply.startswith("Done: rollback_deployment (StopServiceDeployment)"), reply
    assert desk.writes("approved") == ["StopServiceDeployment"]
    assert moto_service("approved").task_definition == td(5)
    # The living message now offers Undo and no Approve; CONTAINED names who approved.
    assert desk.press.button("approved", ButtonKind.UNDO)
    with pytest.raises(AssertionError, match="shows no approve button"):
        desk.press.button("approved", ButtonKind.APPROVE)
    contained = [r for r in desk.slack.requests if "approved in Slack by" in json.dumps(r["body"])]
    assert contained and ONCALL in json.dumps(contained[-1]["body"])
    clicks = [e["detail"] for e in audit_events(desk.sandbox.session) if e["detail"].get("kind") == "slack_click"]
    assert [(c["button"], c["result"], c["user"]["id"]) for c in clicks][-1] == ("approve", "done", ONCALL)


def test_slacks_retry_of_the_same_press_makes_no_second_action(desk: Desk, caplog: pytest.LogCaptureFixture):
    desk.propose("retried", first=201)
    value = desk.press.button("retried", ButtonKind.APPROVE)
    first = desk.press("retried", ButtonKind.APPROVE, action_ts="1764750900.000001", value=value)
    retry = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}
    again = desk.press("retried", ButtonKind.APPROVE, action_ts="1764750900.000001", value=value, headers=retry)
    assert first.startswith("Done:") and again.startswith("Already approved by"), (first, again)
    assert desk.writes("retried") == ["StopServiceDeployment"]
    # Every press is in the function's log, the later ones too (bolt once silenced them after the first).
    answered = [r for r in caplog.records if r.getMessage() == "click answered" and r.incident]
    assert [r.result for r in answered][-2:] == ["done", "duplicate"]


def test_a_proposal_after_a_persons_deployment_is_expired_and_nothing_is_done(desk: Desk):
    desk.propose("overtaken", first=301)
    value = desk.press.button("overtaken", ButtonKind.APPROVE)
    service = moto_service("overtaken")
    service.deployments[0].update(id="ecs-svc/3000000000000000007", taskDefinition=td(7))  # someone deployed api:7
    service.task_definition = td(7)
    reply = desk.press("overtaken", ButtonKind.APPROVE, value=value)
    assert reply.startswith("Expired, nothing done") and "someone deployed" in reply, reply
    assert desk.writes("overtaken") == [] and moto_service("overtaken").task_definition == td(7)


def test_a_press_by_someone_not_allowed_does_nothing_and_says_which_key_admits_people(desk: Desk):
    desk.propose("guarded", first=401)
    reply = desk.press("guarded", ButtonKind.APPROVE, user="U0MALLORY")
    assert reply.startswith("Not allowed") and "watchdog:slack_allowed_users" in reply, reply
    assert desk.writes("guarded") == []
    assert desk.press.button("guarded", ButtonKind.APPROVE)  # still offered to the people allowed
