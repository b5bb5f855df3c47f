"""The sweep's cursor: one state-table item, `SWEEP#CURSOR`, read at the start of a run and written at its end.

Unconditional: runs are minutes apart and each finishes well within the function timeout, and a cursor
overwritten by an overlapping run only means a page is looked at twice (the engine dedupes).
"""

from __future__ import annotations

from typing import Any

from ecs_watchdog.sweep.cursor import SweepCursor

CURSOR_KEY = {"pk": {"S": "SWEEP#CURSOR"}, "sk": {"S": "STATE"}}


class SweepCursorItem:
    """Loads and saves the `SweepCursor` (a fresh cursor when there is none yet)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self) -> SweepCursor:
        """The stored cursor, or one at the beginning."""
        item = self._client.get_item(TableName=self._table, Key=CURSOR_KEY, ConsistentRead=True).get("Item")
        return SweepCursor.model_validate_json(item["doc"]["S"]) if item else SweepCursor()

    def save(self, cursor: SweepCursor) -> None:
        """Where the next run starts."""
        self._client.put_item(TableName=self._table, Item={**CURSOR_KEY, "doc": {"S": cursor.model_dump_json()}})
