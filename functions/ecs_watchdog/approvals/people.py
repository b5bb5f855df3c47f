"""Who may press the watchdog's buttons. Pure: the clicker, the allowed user ids, the allowed group's members.

Checked on every click, whatever the button: a click from anyone else is refused and audited the same way
as any other. Nobody configured means nobody may press (never "everybody"), and the refusal names the
context keys to set.
"""

from __future__ import annotations

from collections.abc import Iterable

USERS_KEY = "watchdog:slack_allowed_users"
GROUP_KEY = "watchdog:slack_allowed_usergroup"


def allowed_users(text: str | None) -> frozenset[str]:
    """Slack user ids from a comma-separated list (the WATCHDOG_SLACK_ALLOWED_USERS variable)."""
    return frozenset(u.strip() for u in (text or "").split(",") if u.strip())


def refusal(user_id: str, users: frozenset[str], group: str | None, members: Iterable[str] | None) -> str | None:
    """Why `user_id` may not press, or None when they may. `members`: the allowed group's members, None when
    there is no group or they could not be read (then only the listed users may press)."""
    if not users and not group:
        return (
            f"Not allowed: nobody may press the watchdog's buttons yet. Set {USERS_KEY} (Slack user ids) "
            f"or {GROUP_KEY} (a user group id) and deploy again."
        )
    if user_id in users or (members is not None and user_id in set(members)):
        return None
    where = " or ".join(k for k, v in ((USERS_KEY, users), (GROUP_KEY, group)) if v)
    return f"Not allowed: you are not among the people who may press the watchdog's buttons ({where})."
