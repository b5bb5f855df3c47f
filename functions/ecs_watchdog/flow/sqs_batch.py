"""An SQS batch's partial response: each record handled on its own, the ones that raised named in
`batchItemFailures` (SQS retries just those and, after maxReceiveCount, moves them to the DLQ).

What Powertools' BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False) answers, without
its import: the batch utility loads asyncio and every event data class, half the handler's cold start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

RecordHandler = Callable[[str, str], object]  # (body, messageId)


def partial_response(
    records: Iterable[Mapping[str, Any]], handle: RecordHandler, logger: logging.Logger
) -> dict[str, list[dict[str, str]]]:
    """Run `handle` on each record's body; the messageIds of those that raised, as Lambda's
    ReportBatchItemFailures response. A batch whose records all fail still answers (it does not raise:
    that would fail the invocation and hide which records were bad)."""
    failures = []
    for record in records:
        message_id = record["messageId"]
        try:
            handle(record["body"], message_id)
        except Exception:
            logger.warning("Record processing exception; skipping this record", exc_info=True)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}
