"""Lambda entry point for Slack's interactivity (the app's Request URL: this function's Function URL).

slack_bolt verifies each request: its `X-Slack-Signature` (HMAC-SHA256 with the app's signing secret,
read from Secrets Manager at cold start) and its `X-Slack-Request-Timestamp` (more than 5 minutes away
from now: refused), and answers 401 before anything else runs. A verified `block_actions` payload becomes
one `Click` per watchdog button pressed (`watchdog_<kind>`, approvals/click.py), carried out by the click
desk; the person who clicked is answered privately (`response_url`, ephemeral). A button that is not the
watchdog's, or one whose value names no incident, is logged and answered so, and never reaches the desk.
Slack's retries (`X-Slack-Retry-Num`) pass through unchanged: the desk dedupes on the press's `action_ts`.

The desk answers before the HTTP response (`process_before_response`): its DynamoDB and ECS calls take
well under Slack's 3 seconds, so no lazy listener (and no lambda:InvokeFunction on itself) is needed; a
slow answer still reaches the clicker, as `response_url` stays valid for 30 minutes (docs/slack-app.md).
Nothing here raises: a misconfiguration is logged and answered (500 without a signing secret, a reply
saying so when the desk cannot be built).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from pydantic import ValidationError
from slack_bolt import Ack, App, BoltRequest, Respond
from slack_bolt.adapter.aws_lambda import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult

from ecs_watchdog.approvals.click import ACTION_ID_PREFIX, ButtonKind, ButtonValue, Click, ClickOutcome
from ecs_watchdog.wiring.slack_interactions import click_desk, signing_secret

logger = Logger(service="ecs-watchdog")
# bolt logs a refused request's body (with its response_url) at INFO: its own lines only from WARNING up.
BOLT_LOGGER = logging.getLogger("ecs_watchdog.slack_bolt")
BOLT_LOGGER.setLevel(logging.WARNING)
NOT_THE_WATCHDOGS = "This button is not the watchdog's: nothing was done."
MALFORMED = "This watchdog button is malformed ({why}): nothing was done."
TROUBLE = "The watchdog could not take this click ({why}): nothing was done. Its logs say more."
TIMESTAMP = re.compile(r"\d{1,12}")


class AnswersClicks(Protocol):
    """The click desk (flow/approvals.py): carries a click out and says what came of it; never raises."""

    def handle(self, click: Click) -> ClickOutcome: ...


DeskFactory = Callable[[Mapping[str, str]], AnswersClicks]


class SlackInteractions:
    """The bolt app over one signing secret, and the desk it hands clicks to (built on the first click)."""

    def __init__(self, secret: str, desk: Callable[[], AnswersClicks]) -> None:
        self._desk_factory = desk
        self._desk: AnswersClicks | None = None
        self.app = App(
            # bolt gives the logger named after the app its own logger's level on every request: named
            # "ecs-watchdog", the function's own INFO lines (every click's) went quiet after the first.
            name=BOLT_LOGGER.name,
            logger=BOLT_LOGGER,
            signing_secret=secret,
            process_before_response=True,  # Lambda freezes after the response: answer first, then respond
            authorize=_no_token_needed,
        )
        self.app.action(re.compile(".*"))(self._on_action)  # every action: a foreign one is answered too
        self._adapter = SlackRequestHandler(self.app)

    def handle(self, event: Any, context: Any) -> dict[str, Any]:
        """A Function URL event (payload 2.0) in, the HTTP response out."""
        if not isinstance(event, dict) or not isinstance(event.get("requestContext"), dict):
            logger.warning("not a Function URL request: ignored")
            return {"statusCode": 400, "body": "not a Function URL request"}
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        if not TIMESTAMP.fullmatch(headers.get("x-slack-request-timestamp", "")):
            logger.warning("Slack request refused: no usable X-Slack-Request-Timestamp")
            return {"statusCode": 401, "body": "invalid request"}
        retry: dict[str, object] = {
            k: headers[k] for k in ("x-slack-retry-num", "x-slack-retry-reason") if k in headers
        }
        if retry:
            logger.info("Slack retried this request", extra=retry)
        response = self._adapter.handle(
            {**event, "headers": headers, "isBase64Encoded": bool(event.get("isBase64Encoded"))}, context
        )
        if response["statusCode"] == 401:
            logger.warning(
                "Slack request refused: signature invalid or timestamp more than 5 minutes away "
                "(wrong signing secret, clock skew, or a replay)"
            )
        return response

    def _on_action(self, ack: Ack, body: dict[str, Any], respond: Respond, request: BoltRequest) -> None:
        ack()
        replies = [self._answer(action, body) for action in body.get("actions") or [] if isinstance(action, dict)]
        if not replies:
            logger.warning("an interaction with no action: nothing to answer")
            return
        try:
            sent = respond(text="\n".join(replies), response_type="ephemeral", replace_original=False)
        except Exception as error:  # no response_url (a modal), Slack unreachable: the click stands
            logger.warning(
                "the reply to the person who clicked did not reach Slack", extra={"error": type(error).__name__}
            )
            return
        if sent.status_code != 200:
            logger.warning("Slack refused the reply to the person who clicked", extra={"status": sent.status_code})

    def _answer(self, action: dict[str, Any], body: dict[str, Any]) -> str:
        action_id = str(action.get("action_id") or "")
        kind = ButtonKind.from_action_id(action_id)
        if kind is None:
            if action_id.startswith(ACTION_ID_PREFIX):
                return _refused(action_id, MALFORMED.format(why=f"no watchdog button is called {action_id}"))
            return _refused(action_id, NOT_THE_WATCHDOGS)
        target = ButtonValue.decode(str(action.get("value") or ""))
        if target is None:
            return _refused(action_id, MALFORMED.format(why="its value names no incident"))
        try:
            click = click_of(kind, target, action, body)
        except ValidationError:
            return _refused(action_id, MALFORMED.format(why="the request names no user or no press"))
        try:
            outcome = self._current_desk().handle(click)
        except Exception as error:  # the desk never raises; a desk that cannot be built does
            logger.exception("the click desk failed", extra={"action_id": action_id})
            return TROUBLE.format(why=type(error).__name__)
        logger.info(
            "click answered",
            extra={
                "action_id": action_id,
                "slack_user": click.user_id,
                "incident": target.incident,
                "result": str(outcome.result),
            },
        )
        return outcome.reply

    def _current_desk(self) -> AnswersClicks:
        if self._desk is None:
            self._desk = self._desk_factory()  # a failure is not kept: the next click builds again
        return self._desk


def click_of(kind: ButtonKind, target: ButtonValue, action: dict[str, Any], body: dict[str, Any]) -> Click:
    """The press in Slack's `block_actions` payload (docs.slack.dev, "block_actions payload")."""
    user = _mapping(body.get("user"))
    container = _mapping(body.get("container"))
    return Click(
        kind=kind,
        target=target,
        user_id=str(user.get("id") or ""),
        user_name=user.get("username") or user.get("name"),
        team_id=_mapping(body.get("team")).get("id") or user.get("team_id"),
        channel_id=container.get("channel_id") or _mapping(body.get("channel")).get("id"),
        message_ts=container.get("message_ts") or _mapping(body.get("message")).get("ts"),
        action_ts=str(action.get("action_ts") or ""),
        clicked_at=_clicked_at(action.get("action_ts")),
    )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _clicked_at(action_ts: Any) -> datetime:
    """Slack's `action_ts` is the press's time (seconds since the epoch); now when it is not one."""
    try:
        return datetime.fromtimestamp(float(action_ts), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(UTC)


def _refused(action_id: str, reply: str) -> str:
    logger.warning("a button the watchdog does not carry out", extra={"action_id": action_id[:255], "reply": reply})
    return reply


def _no_token_needed(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
    # The listener answers through response_url, which needs no token; the desk holds the bot token it needs.
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


def make_handler(desk: DeskFactory) -> Callable[[Any, Any], dict[str, Any]]:
    """A Lambda handler whose app is built on the first request (the signing secret read then, and again
    after a failure) and whose clicks go to `desk(os.environ)`."""
    built: list[SlackInteractions] = []

    @logger.inject_lambda_context(clear_state=True)
    def handle(event: Any, context: Any) -> dict[str, Any]:
        if not built:
            try:
                secret = signing_secret(os.environ)
            except Exception as error:
                logger.error("Slack interactions cannot start", extra={"error": str(error)})
                return {"statusCode": 500, "body": "the watchdog cannot verify Slack requests (see its logs)"}
            built.append(SlackInteractions(secret, desk=lambda: desk(os.environ)))
        return built[0].handle(event, context)

    return handle


handler = make_handler(click_desk)
