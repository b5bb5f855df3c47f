"""State-table items of answered PAUSE hooks: `HOOK#<service deployment ARN>/<hookId>`, sort key `ANSWER`.

Written like the service items (docs/state.md): whole-document puts conditional on the revision read, so
two invocations cannot both claim one hook (gate/answers.py). Kept for a day past the hook's expiry, when
no event of it can matter any more.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ecs_watchdog.aws.state_table import read_document, write_document
from ecs_watchdog.gate.answers import HookAnswerRecord

KEPT_AFTER_EXPIRY = timedelta(days=1)


def hook_answer_key(service_deployment_arn: str, hook_id: str) -> dict[str, Any]:
    """The item's key for one hook of one service deployment."""
    return {"pk": {"S": f"HOOK#{service_deployment_arn}/{hook_id}"}, "sk": {"S": "ANSWER"}}


class HookAnswers:
    """Consistent reads and conditional writes of `HookAnswerRecord` (no cache: a hook comes up rarely)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, service_deployment_arn: str, hook_id: str) -> HookAnswerRecord | None:
        """The stored answer or claim of the hook; None when nobody claimed it yet."""
        return read_document(
            self._client, self._table, hook_answer_key(service_deployment_arn, hook_id), HookAnswerRecord
        )

    def save(self, record: HookAnswerRecord) -> HookAnswerRecord:
        """Write if nobody else did since `record.revision` was read (StaleWrite otherwise)."""
        key = hook_answer_key(record.service_deployment_arn, record.hook_id)
        return write_document(self._client, self._table, key, record, record.hook_expires_at + KEPT_AFTER_EXPIRY)
