"""The state table: one JSON document per service (and per account), written with optimistic locking.

Each write is conditional on the revision the writer read, so two handlers racing on one service
cannot both apply a transition: the loser gets ConditionalCheckFailedException, re-reads and
re-decides. Item layout: docs/state.md.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import BaseModel

from ecs_watchdog.conflicts import StaleWrite, StoreBusy
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import OrganizationState
from ecs_watchdog.incidents.model import Incident, ServiceState, Unstorable

SERVICE_TTL = timedelta(days=30)  # a service quiet for a month starts afresh (LKG re-read from ECS)
INCIDENT_TTL = timedelta(days=400)

Doc = TypeVar("Doc", ServiceState, AccountState, OrganizationState)
# Errors that pass: DynamoDB is throttling or briefly unwell (botocore already retried a few times).
BUSY = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


# Sparse index of the services whose timers can fire without an event (stuck deployments, resolved
# incidents to close, undelivered announcements): only their items carry the index keys. The sweep
# Queries it; infra/state.py defines it (KEYS_ONLY).
WATCH_INDEX = "watched"
# What a container remembers of what it wrote, by size rather than by count, so a storm over a few
# thousand services still costs no read per event: 32 MB is about 4,000 service items of 8 KB, a small
# share of the function's 512 MB.
CACHE_BYTES = 32 * 1024 * 1024
WATCH_PARTITION = "TIMERS"


def watch_attributes(state: ServiceState) -> dict[str, Any]:
    """The index keys for a service item whose timers may fire on their own; none for a quiet service."""
    pending = (
        state.incidents
        or state.outbox
        or any(r.status == "IN_PROGRESS" and not r.stuck_reported for r in state.deployments.values())
    )
    return {"gsi1pk": {"S": WATCH_PARTITION}, "gsi1sk": {"S": state.service}} if pending else {}


def service_key(service: str) -> dict[str, Any]:
    return {"pk": {"S": f"SERVICE#{service}"}, "sk": {"S": "STATE"}}


def account_key(account: str) -> dict[str, Any]:
    return {"pk": {"S": f"ACCOUNT#{account}"}, "sk": {"S": "CORRELATION"}}


def organization_key(hub: str) -> dict[str, Any]:
    """The hub's organization guard (hub account/region): its own item, never mistaken for an account's."""
    return {"pk": {"S": f"ORGANIZATION#{hub}"}, "sk": {"S": "CORRELATION"}}


class StateTable:
    """Reads and conditional writes of watchdog state.

    What this container last wrote is kept in memory: a warm function handling a crash loop then
    writes without reading first, and the conditional write still catches any other writer (the
    stale copy is dropped and the caller reads afresh). So a failure usually costs one PutItem.
    """

    def __init__(self, client: Any, table_name: str, cache_bytes: int = CACHE_BYTES) -> None:
        self._client = client
        self._table = table_name
        # pk → (model, its stored JSON, revision): kept as text so the budget is the documents' size and
        # every load hands out its own copy.
        self._cache: OrderedDict[str, tuple[type[BaseModel], str, int]] = OrderedDict()
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0

    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None:
        """The service's state; `fresh` skips this container's copy for a consistent read."""
        return self._load(service_key(service), ServiceState, fresh)

    def is_cached(self, service: str) -> bool:
        """Whether `load_service` would answer from this container's memory."""
        return service_key(service)["pk"]["S"] in self._cache

    def save_service(self, state: ServiceState, expires_after: datetime) -> ServiceState:
        """Write if nobody else did since `state.revision` was read; returns the stored state."""
        return self._save(service_key(state.service), state, expires_after + SERVICE_TTL, watch_attributes(state))

    def watched_services(self, limit: int, start: str | None = None) -> tuple[list[str], str | None]:
        """Up to `limit` service keys from the sparse index (after `start`), and where to go on; None at the end."""
        extra = {}
        if start:
            extra["ExclusiveStartKey"] = {
                **service_key(start),
                "gsi1pk": {"S": WATCH_PARTITION},
                "gsi1sk": {"S": start},
            }
        response = self._client.query(
            TableName=self._table,
            IndexName=WATCH_INDEX,
            KeyConditionExpression="gsi1pk = :watched",
            ExpressionAttributeValues={":watched": {"S": WATCH_PARTITION}},
            Limit=limit,
            **extra,
        )
        keys = [item["gsi1sk"]["S"] for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return keys, (last["gsi1sk"]["S"] if last else None)

    def load_account(self, account: str, fresh: bool = False) -> AccountState | None:
        return self._load(account_key(account), AccountState, fresh)

    def save_account(self, state: AccountState, now: datetime) -> AccountState:
        return self._save(account_key(state.account), state, now + SERVICE_TTL)

    def load_organization(self, hub: str, fresh: bool = False) -> OrganizationState | None:
        return self._load(organization_key(hub), OrganizationState, fresh)

    def save_organization(self, state: OrganizationState, now: datetime) -> OrganizationState:
        return self._save(organization_key(state.key), state, now + SERVICE_TTL)

    def archive_incident(self, incident: Incident) -> None:
        """Keep a closed incident (with its timeline) for reporting after it leaves the service item."""
        closed = incident.closed_at or incident.updated_at
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"INCIDENT#{incident.id}"},
                "sk": {"S": "INCIDENT"},
                "service": {"S": incident.service},
                "doc": {"S": incident.model_dump_json()},
                "expires_at": {"N": str(int((closed + INCIDENT_TTL).timestamp()))},
            },
        )

    def _load(self, key: dict[str, Any], model: type[Doc], fresh: bool) -> Doc | None:
        cached = None if fresh else self._cache.get(key["pk"]["S"])
        if cached is not None and cached[0] is model:
            self._cache.move_to_end(key["pk"]["S"])
            doc = json.loads(cached[1])
            doc["revision"] = cached[2]
            return model.model_validate(doc)
        return read_document(self._client, self._table, key, model)

    def _remember(self, pk: str, state: ServiceState | AccountState | OrganizationState | None) -> None:
        dropped = self._cache.pop(pk, None)
        self._cached_bytes -= len(dropped[1]) if dropped else 0
        if state is not None:
            text = _dump(state)
            self._cache[pk] = (type(state), text, int(state.revision))
            self._cached_bytes += len(text)
            while self._cached_bytes > self._cache_bytes and len(self._cache) > 1:
                self._cached_bytes -= len(self._cache.popitem(last=False)[1][1])

    def _save(self, key: dict[str, Any], state: Doc, expires_at: datetime, index: dict[str, Any] | None = None) -> Doc:
        try:
            stored = write_document(self._client, self._table, key, state, expires_at, index)
        except Exception:
            self._remember(key["pk"]["S"], None)  # whatever we held may be stale: read afresh next time
            raise
        self._remember(key["pk"]["S"], stored)
        return stored


Versioned = TypeVar("Versioned", bound=BaseModel)


def read_document(client: Any, table: str, key: dict[str, Any], model: type[Versioned]) -> Versioned | None:
    """A consistent read of one JSON document item, its `rev` as the model's `revision`; None when absent."""
    try:
        item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
    except ClientError as error:
        if error.response["Error"]["Code"] in BUSY:
            raise StoreBusy(f"{key['pk']['S']}: {error.response['Error']['Code']}") from error
        raise
    if item is None:
        return None
    doc = json.loads(item["doc"]["S"])
    doc["revision"] = int(item["rev"]["N"])
    return model.model_validate(doc)


def write_document(
    client: Any,
    table: str,
    key: dict[str, Any],
    state: Versioned,
    expires_at: datetime,
    index: dict[str, Any] | None = None,
) -> Versioned:
    """Put the document if nobody wrote it since `state.revision` was read; returns it at its new revision.

    Raises StaleWrite (another writer won), StoreBusy (throttled) or Unstorable (it can never be stored)."""
    revision = int(getattr(state, "revision", 0))
    stored = state.model_copy(update={"revision": revision + 1})
    try:
        document = _dump(stored)
        expires = str(int(expires_at.timestamp()))
        document.encode("utf-8")
    except (ValueError, OverflowError) as error:  # UnicodeEncodeError (lone surrogates) is a ValueError
        raise Unstorable(f"{key['pk']['S']}: cannot be stored: {type(error).__name__}: {error}"[:300]) from error
    condition = "attribute_not_exists(pk)" if revision == 0 else "rev = :read"
    values = {"ExpressionAttributeValues": {":read": {"N": str(revision)}}} if revision else {}
    try:
        client.put_item(
            TableName=table,
            Item={
                **key,
                "rev": {"N": str(revision + 1)},
                "doc": {"S": document},
                "expires_at": {"N": expires},
                **(index or {}),
            },
            ConditionExpression=condition,
            **values,
        )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ConditionalCheckFailedException":
            raise StaleWrite(key["pk"]["S"]) from error
        if code in BUSY:
            raise StoreBusy(f"{key['pk']['S']}: {code}") from error
        if code == "ValidationException":  # e.g. the item would exceed DynamoDB's 400 KB
            raise Unstorable(f"{key['pk']['S']}: {error.response['Error'].get('Message', code)}") from error
        raise
    return stored


def _dump(model: BaseModel) -> str:
    return model.model_dump_json(exclude={"revision"})
