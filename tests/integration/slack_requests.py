"""Signed Slack interaction requests as a Function URL hands them to its function, and a desk that records.

The payload is Slack's documented `block_actions` shape (tests/fixtures/slack/block_actions.json), the
envelope a Function URL's payload 2.0 (tests/fixtures/slack/function_url_request.json); the signature is
Slack's: `v0=` + HMAC-SHA256 of `v0:<timestamp>:<body>` with the app's signing secret.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ecs_watchdog.approvals.click import ButtonKind, ButtonValue, Click, ClickOutcome, ClickResult
from ecs_watchdog.replay.local_lambda import LocalLambdaContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the example secret of Slack's "Verifying requests" page
SIGNING_SECRET_NAME = "ecs-watchdog/slack-signing-secret"
SERVICE_KEY = "123456789012/us-east-1/prod/api"


def block_actions(
    kind: ButtonKind | None = ButtonKind.APPROVE,
    *,
    action_id: str | None = None,
    value: str | None = None,
    response_url: str | None = None,
    action_ts: str = "1764750060.123456",
    user_id: str = "U0123ONCALL",
) -> dict[str, Any]:
    """Slack's documented payload for one press of one button (a watchdog one unless `action_id` says)."""
    payload = copy.deepcopy(json.loads((FIXTURES / "block_actions.json").read_text())["payload"])
    (action,) = payload["actions"]
    action["action_id"] = action_id if action_id is not None else kind.action_id if kind else "other_app_button"
    proposal = "prop-1" if kind in (ButtonKind.APPROVE, ButtonKind.UNDO) else None
    action["value"] = value if value is not None else ButtonValue(s=SERVICE_KEY, i="inc-1", p=proposal).encode()
    action["action_ts"] = action_ts
    payload["user"]["id"] = user_id
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def function_url_event(
    payload: dict[str, Any],
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    base64_body: bool = True,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Function URL event of Slack posting `payload`, signed with `secret` at `timestamp` (now)."""
    body = urlencode({"payload": json.dumps(payload)})
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    event = copy.deepcopy(json.loads((FIXTURES / "function_url_request.json").read_text())["event"])
    event["headers"].update(
        {"x-slack-request-timestamp": stamp, "x-slack-signature": f"v0={digest}", **(headers or {})}
    )
    event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    event["isBase64Encoded"] = base64_body
    return event


@dataclass
class RecordedDesk:
    """A desk that records each click and answers `result` with a reply naming the click."""

    result: ClickResult = ClickResult.DONE
    clicks: list[Click] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, click: Click) -> ClickOutcome:
        with self.lock:
            self.clicks.append(click)
        return ClickOutcome(result=self.result, reply=f"{click.kind} of {click.target.incident} by {click.user_id}")


@dataclass
class SignedPresses:
    """Presses of the buttons the bot's living message shows, as Slack posts them to the interactivity function.

    `press(service, kind)` takes the button from the latest message the (fake) Slack received for `service`
    (chat.postMessage / chat.update): its action id and value are the watchdog's own, not made up here. It
    sends the signed request through `handler`, and returns the private reply the person who clicked got
    on the response_url (the fake Slack again)."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    slack: Any  # tests/integration/fake_slack.FakeSlack
    key_prefix: str  # <account>/<region>/<cluster>
    stamps: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(
        self,
        service: str,
        kind: ButtonKind,
        user: str = "U0123ONCALL",
        *,
        action_ts: str | None = None,
        value: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """The reply to one press; `value`: a button seen earlier (the message may have changed since)."""
        value = value or self.button(service, kind)
        stamp = action_ts or f"1764750{next(self.stamps):03d}.000100"
        # A response_url of its own per request (Slack's differ too): its reply is found among concurrent ones,
        # and among those of other presses the same fake Slack answered.
        response_url = f"{self.slack.url}?press={uuid.uuid4().hex}"
        payload = block_actions(kind, value=value, response_url=response_url, action_ts=stamp, user_id=user)
        answer = self.handler(function_url_event(payload, headers=headers), LocalLambdaContext())
        assert answer["statusCode"] == 200, answer
        path = response_url.split("127.0.0.1", 1)[1].split("/", 1)[1]
        replies = [r["body"] for r in list(self.slack.requests) if r["path"] == f"/{path}"]
        assert len(replies) == 1 and replies[0]["response_type"] == "ephemeral", replies
        return str(replies[0]["text"])

    def button(self, service: str, kind: ButtonKind) -> str:
        """The value of the `kind` button on the latest message for `service`; AssertionError if none shows it."""
        key = f"{self.key_prefix}/{service}"
        for request in reversed(self.slack.requests):
            if not request["path"].endswith(("chat.postMessage", "chat.update")):
                continue
            buttons = [
                element
                for block in request["body"].get("blocks") or []
                if block.get("type") == "actions"
                for element in block.get("elements", [])
            ]
            target = [b for b in buttons if (ButtonValue.decode(b["value"]) or _NO_VALUE).service == key]
            if target:
                shown = [b["value"] for b in target if b["action_id"] == kind.action_id]
                assert shown, f"the latest message for {key} shows no {kind} button: {[b['action_id'] for b in target]}"
                return str(shown[0])
        raise AssertionError(f"no message with buttons for {key}")


_NO_VALUE = ButtonValue(s="-", i="-")
