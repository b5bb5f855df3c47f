"""The audit trail's EventBridge side: every action and dry-run decision, and every Slack click, as an event."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ecs_watchdog.contain.models import ActionRecord

SOURCE = "ecs-watchdog"
DETAIL_TYPE = "ECS Watchdog Action"


class AuditEventFailed(Exception):
    """EventBridge did not take the event (PutEvents reports it per entry, not as an error)."""


class AuditEvents:
    """Puts action records on an event bus (`default` unless told), so people can route them."""

    def __init__(self, client: Any, bus_name: str = "default") -> None:
        self._client = client
        self._bus = bus_name

    def emit(self, record: ActionRecord) -> str:
        """Put one record and return the event id; raises AuditEventFailed when it was not taken."""
        return self._put(record.model_dump_json(), record.at)

    def emit_click(self, detail: dict[str, Any], at: datetime) -> str:
        """Put one Slack click (who, which button, what it came to: flow/approvals.py) as an event."""
        return self._put(json.dumps(detail, default=str), at)

    def _put(self, detail: str, at: datetime) -> str:
        response = self._client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": DETAIL_TYPE,
                    "Detail": detail,
                    "Time": at,
                    "EventBusName": self._bus,
                }
            ]
        )
        entry = response["Entries"][0]
        if response.get("FailedEntryCount") or "EventId" not in entry:
            raise AuditEventFailed(f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}")
        return str(entry["EventId"])
