"""State-table items of failed ECS API calls: `APIERROR#<account>/<region>/<family-or-service>`.

Written like the service items (docs/state.md): whole-document puts conditional on the revision read,
so two invocations counting the same family cannot both announce one finding.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ecs_watchdog.aws.state_table import BUSY
from ecs_watchdog.incidents.api_errors import ApiErrorState
from ecs_watchdog.incidents.model import StaleWrite, StoreBusy, Unstorable

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
        key = api_error_key(subject)
        try:
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        except ClientError as error:
            if error.response["Error"]["Code"] in BUSY:
                raise StoreBusy(f"{key['pk']['S']}: {error.response['Error']['Code']}") from error
            raise
        if item is None:
            return None
        doc = json.loads(item["doc"]["S"])
        doc["revision"] = int(item["rev"]["N"])
        return ApiErrorState.model_validate(doc)

    def save(self, state: ApiErrorState, now: datetime) -> ApiErrorState:
        """Write if nobody else did since `state.revision` was read (StaleWrite otherwise)."""
        key = api_error_key(state.subject)
        stored = state.model_copy(update={"revision": state.revision + 1})
        try:
            document = stored.model_dump_json(exclude={"revision"})
            document.encode("utf-8")
            expires = str(int((now + API_ERROR_TTL).timestamp()))
        except (ValueError, OverflowError) as error:
            raise Unstorable(f"{key['pk']['S']}: cannot be stored: {error}"[:300]) from error
        condition = "attribute_not_exists(pk)" if state.revision == 0 else "rev = :read"
        values = {"ExpressionAttributeValues": {":read": {"N": str(state.revision)}}} if state.revision else {}
        try:
            self._client.put_item(
                TableName=self._table,
                Item={**key, "rev": {"N": str(stored.revision)}, "doc": {"S": document}, "expires_at": {"N": expires}},
                ConditionExpression=condition,
                **values,
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ConditionalCheckFailedException":
                raise StaleWrite(key["pk"]["S"]) from error
            if code in BUSY:
                raise StoreBusy(f"{key['pk']['S']}: {code}") from error
            if code == "ValidationException":
                raise Unstorable(f"{key['pk']['S']}: {error.response['Error'].get('Message', code)}") from error
            raise
        return stored
