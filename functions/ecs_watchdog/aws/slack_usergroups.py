"""Who is in a Slack user group (`usergroups.users.list`, scope `usergroups:read`), with the bot token.

The click desk asks it when `watchdog:slack_allowed_usergroup` names a group (its `UserGroupMembers`
protocol: `members(group_id) -> frozenset[str]`). Answers are cached a few minutes per group, so a burst
of clicks costs one Slack call and a person removed from the group loses the buttons within that time.
A click must be answered within Slack's 3 seconds, so the call has a short timeout and no retry: when
Slack cannot say, `UserGroupUnavailable` is raised (naming the group and Slack's error, never the token):
an answer it does not have is never made up, and nothing failed is cached.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from ecs_watchdog.aws.slack import sdk_logger
from ecs_watchdog.aws.slack_bot import BotTokenSecret

MEMBERS_MAX_AGE_SECONDS = 300.0
TIMEOUT_SECONDS = 2.0


class UserGroupUnavailable(RuntimeError):
    """Slack could not say who is in the group just now (or the app may not ask); never the token."""


class SlackUserGroups:
    """Members of Slack user groups, as the bot sees them, cached `max_age_seconds` per group."""

    def __init__(
        self,
        token: Callable[[], str],
        *,
        base_url: str = WebClient.BASE_URL,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_age_seconds: float = MEMBERS_MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`token` is called for each Slack call (a rotated secret is followed); `base_url` is for tests."""
        self._token = token
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._max_age = max_age_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_bot_secret(cls, secretsmanager_client: Any, secret_name: str, **options: Any) -> SlackUserGroups:
        """Members as seen with the bot token held by `secret_name` (watchdog:slack_bot_secret_name)."""
        return cls(BotTokenSecret(secretsmanager_client, secret_name).token, **options)

    def members(self, group_id: str) -> frozenset[str]:
        """The user ids in `group_id` (enabled members only, as Slack lists them)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(group_id)
        if cached is not None and now - cached[0] < self._max_age:
            return cached[1]
        users = self._list(group_id)
        with self._lock:
            self._cache[group_id] = (now, users)
        return users

    def _list(self, group_id: str) -> frozenset[str]:
        try:
            token = self._token()
        except Exception as error:  # the bot secret's own errors already say what is wrong, without the value
            raise UserGroupUnavailable(f"no bot token to ask Slack about user group {group_id}: {error}") from None
        client = WebClient(
            token=token,
            base_url=self._base_url,
            timeout=self._timeout,  # type: ignore[arg-type]  # typed int, passed on to urlopen, which takes a float
            logger=sdk_logger(token),
        )
        try:
            response = client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as error:
            code = error.response.get("error", "unknown") if error.response is not None else "unknown"
            hint = " (the app needs the usergroups:read scope)" if code == "missing_scope" else ""
            raise UserGroupUnavailable(f"Slack refused to list user group {group_id}: {code}{hint}") from None
        except TimeoutError:
            raise UserGroupUnavailable(f"Slack did not list user group {group_id} within {self._timeout:g} s") from None
        except (OSError, HTTPException, ValueError, SlackClientError) as error:
            raise UserGroupUnavailable(
                f"Slack unreachable listing user group {group_id}: {type(error).__name__}"
            ) from None
        users = response.get("users")
        if not isinstance(users, list):
            raise UserGroupUnavailable(f"Slack's answer for user group {group_id} names no users")
        return frozenset(str(u) for u in users)
