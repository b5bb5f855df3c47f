"""State-table items of failed ECS API calls: `APIERROR#<account>/<region>/<family-or-service>`.

Written like the service items (docs/state.md): whole-document puts conditional on the revision read,
so two invocations counting the same family cannot both announce one finding.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ecs_watchdog.aws.state_table import read_document, write_document

if TYPE_CHECKING:
    from ecs_watchdog.api_errors.findings import ApiErrorState

API_ERROR_TTL = timedelta(days=30)


def api_error_key(subject: str) -> dict[str, Any]:
    """The item's key for `account/region/family-or-service`."""
    return {"pk": {"S": f"APIERROR#{subject}"}, "sk": {"S": "STATE"}}


class ApiErrorStore:
    """Consistent reads and conditional writes of `ApiErrorState` (no cache: findings are rare)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def load(self, subject: str, fresh: bool = True) -> ApiErrorState | None:
        """The stored state of one family/service, None when there is none. `fresh` is accepted for the
        retry helpers' signature; every read is consistent."""
        # Here, not at the top: api_errors/ loads on the first failed API call, not at every cold start.
        from ecs_watchdog.api_errors.findings import ApiErrorState

        return read_document(self._client, self._table, api_error_key(subject), ApiErrorState)

    def save(self, state: ApiErrorState, now: datetime) -> ApiErrorState:
        """Write if nobody else did since `state.revision` was read (StaleWrite otherwise)."""
        return write_document(self._client, self._table, api_error_key(state.subject), state, now + API_ERROR_TTL)
