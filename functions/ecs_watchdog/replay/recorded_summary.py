"""What a recorded-event replay did, in numbers, and — when a non-empty archive yields nothing — why.

Pure: it reads the envelopes and the replay's result, nothing else.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ecs_watchdog.events import TASK_STATE_CHANGE

# An incident's first announcement: the email subject `[ecs-watchdog] OPENED ...` (or REOPENED).
_OPENED = re.compile(r"^\[ecs-watchdog\] (RE)?OPENED\b")
READ_DETAIL_TYPES = (
    TASK_STATE_CHANGE,
    "ECS Deployment State Change",
    "ECS Service Action",
    "ECS Hook State Change",
    "AWS API Call via CloudTrail",
)


def home_of(events: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """The account and region most of the events come from: the one watchdog that would have seen them
    (a watchdog is deployed per account and region)."""
    places = Counter((str(e.get("account", "")), str(e.get("region", ""))) for e in events)
    (account, region), _ = places.most_common(1)[0] if places else (("", ""), 0)
    return account, region


def summarize(
    events: Sequence[Mapping[str, Any]], skipped: int, account: str, region: str, result: Mapping[str, Any]
) -> dict[str, Any]:
    """Events read and replayed, services, incidents, messages, actions; and `why_nothing` when the
    replay produced no message."""
    services = result["services"]
    incidents = sum(1 for n in result["notifications"] if n["channel"] == "sns" and _OPENED.match(n["text"]))
    summary: dict[str, Any] = {
        "events_read": len(events) + skipped,
        "events_replayed": len(events),
        "skipped_other_account_or_region": skipped,
        "account": account,
        "region": region,
        "services": len(services),
        "failed_tasks": sum(s["failed_tasks"] for s in services.values()),
        "incidents": incidents,
        "messages": len(result["notifications"]),
        "actions": len(result["actions"]),
    }
    if not result["notifications"]:
        summary["why_nothing"] = why_nothing(events, skipped, summary["failed_tasks"], account, region)
    return summary


def why_nothing(events: Sequence[Mapping[str, Any]], skipped: int, failed_tasks: int, account: str, region: str) -> str:
    """Why an archive with events made the watchdog say nothing."""
    if not events and not skipped:
        return "the file holds no events"
    if not events:
        return f"all {skipped} events are from other accounts or regions than {account} {region}"
    kinds = Counter(str(e.get("detail-type")) for e in events)
    read = sum(kinds[k] for k in READ_DETAIL_TYPES)
    if not read:
        shown = ", ".join(f"{k} x{n}" for k, n in kinds.most_common(3))
        wanted = ", ".join(READ_DETAIL_TYPES)
        return f"none of the {len(events)} events is one the watchdog reads (it reads {wanted}); got {shown}"
    stops = [
        e for e in events if e.get("detail-type") == TASK_STATE_CHANGE and e["detail"].get("lastStatus") == "STOPPED"
    ]
    services = [e for e in stops if str(e["detail"].get("group", "")).startswith("service:")]
    if not stops:
        return f"no task stopped in the {len(events)} events: the watchdog speaks about failed tasks and deployments"
    if not services:
        return f"the {len(stops)} stopped tasks are standalone (no `service:` group): the watchdog watches services"
    if not failed_tasks:
        return f"all {len(services)} stopped service tasks stopped for benign reasons (scale-in, deployments, people)"
    return (
        f"{failed_tasks} failed tasks opened no incident: an incident needs repeated failures of one revision "
        "(3 by default), a deployment stuck or failing, or a confirming probe"
    )
