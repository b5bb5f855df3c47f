"""Count updates of ongoing incidents, on the cadence announce/cadence.py sets (about 5, 15, 30, 60 minutes
after opening, then hourly), driven by the scheduled sweep: they need no incoming event.

Only channels that can say "still going" take them (Slack: a thread reply in bot mode, a short new
message by webhook); email gets transitions only. Each slot is claimed on the incident with a
conditional write before anything is sent, so overlapping sweeps send it once; an update that fails is
logged and not retried (the next slot brings a fresher count). A channel the outbox's budget holds back
(down earlier in this invocation) is not tried, and one found down now rests like it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.cadence import due_update
from ecs_watchdog.announce.channels import ChannelDown
from ecs_watchdog.announce.outbox import ChannelBudget, OutboxItem
from ecs_watchdog.conflicts import update_with_retry
from ecs_watchdog.incidents.model import Incident, ServiceState
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)


class Updater(Protocol):
    name: str

    def send_update(self, incident: Incident, ref: ServiceRef, now: datetime) -> Any: ...


def updaters(channels: Sequence[Any]) -> list[Updater]:
    """The channels that take count updates (through a counting wrapper too)."""
    found = []
    for channel in channels:
        inner = getattr(channel, "inner", channel)
        if callable(getattr(inner, "send_update", None)):
            found.append(inner)
    return found


def send_due_updates(
    ref: ServiceRef,
    item: OutboxItem[ServiceState],
    channels: Sequence[Any],
    now: datetime,
    budget: ChannelBudget | None = None,
) -> list[str]:
    """Send the count updates due at `now` for the service's ongoing incidents; returns their ids."""
    takers = updaters(channels)
    if not takers:
        return []
    claimed: list[Incident] = []

    def claim(doc: ServiceState) -> ServiceState | None:
        claimed.clear()
        due = [i for i in doc.incidents.values() if due_update(i, i.last_update_at, now) and not i.silenced_at(now)]
        if not due:
            return None
        incidents = dict(doc.incidents)
        for incident in due:
            incidents[incident.id] = incident.model_copy(update={"last_update_at": now})
            claimed.append(incident)
        return doc.model_copy(update={"incidents": incidents})

    update_with_retry(item.load, claim, item.save, what=f"count updates of {item.what}")
    for incident in claimed:
        for channel in takers:
            held = budget.held_back(channel.name) if budget is not None else None
            if held is not None:
                logger.info(
                    "count update not sent", extra={"channel": channel.name, "incident": incident.id, "problem": held}
                )
                continue
            try:
                channel.send_update(incident, ref, now)
            except ChannelDown as error:
                if budget is not None:
                    budget.rest(channel.name)
                logger.warning(
                    "count update not sent: the channel is not answering",
                    extra={"channel": channel.name, "incident": incident.id, "problem": f"{error}"[:300]},
                )
            except Exception as error:  # best effort: the next slot carries a fresher count
                logger.warning(
                    "count update not sent",
                    extra={"channel": channel.name, "incident": incident.id, "problem": f"{error}"[:300]},
                )
    return [i.id for i in claimed]
