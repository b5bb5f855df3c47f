"""The state table in memory: what aws/state_table.StateTable promises, without DynamoDB.

`MemoryStore` holds the items (JSON documents with a revision counter), shared by every "container";
`store.container()` is one Lambda container's `StateStore`, with its own cache of its own writes. Writes
are conditional on the revision read; DynamoDB's limits (item 400 KB, key 2 KB, UTF-8) raise Unstorable.
Faults can be injected on the Nth call of an operation (also after the write took effect: a lost
reply), and code can run just before a call, so two pipelines race deterministically.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from ecs_watchdog.conflicts import StaleWrite
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import OrganizationState
from ecs_watchdog.incidents.model import Incident, ServiceState, Unstorable

Doc = TypeVar("Doc", ServiceState, AccountState, OrganizationState)
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit: bigger writes fail with ValidationException
MAX_KEY_BYTES = 2048  # DynamoDB's partition key limit, likewise
OPERATIONS = (
    "load_service",
    "save_service",
    "load_account",
    "save_account",
    "load_organization",
    "save_organization",
    "archive_incident",
)


def no_pause(attempt: int) -> None:
    """Retry without sleeping: the fakes answer at once, and tests must not wait."""


class ContainerDied(BaseException):
    """The Lambda container stopped mid-invocation (timeout, crash): nothing after this point runs.

    A BaseException, so the pipeline's `except Exception` handlers cannot absorb it, just as they
    cannot absorb a container being frozen or killed."""


@dataclass
class _Fault:
    operation: str
    start: int  # the operation's call count after which it applies (call numbers start + 1 ...)
    times: int | None  # how many calls it affects; None: every call from then on
    error: BaseException | None = None  # raised instead of the call
    applied: bool = False  # the call takes effect and `error` is raised after it (the reply was lost)
    run: Callable[[], None] | None = None  # run before the call goes ahead
    when: Callable[[Any], bool] | None = None  # only for calls about this key / document

    def applies(self, call: int, subject: Any) -> bool:
        if call <= self.start or (self.times is not None and call > self.start + self.times):
            return False
        return self.when is None or self.when(subject)


@dataclass
class MemoryStore:
    """The state table's items, shared by every container, with the real table's write semantics."""

    items: dict[str, tuple[int, str]] = field(default_factory=dict)  # pk → (rev, JSON document)
    archived: dict[str, Incident] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)  # operation → calls so far (all containers)
    stale_writes: int = 0  # conditional writes refused because another writer got there first
    faults: list[_Fault] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- scripting ----------------------------------------------------------------------------------
    def inject(
        self,
        operation: str,
        error: BaseException,
        *,
        on_call: int = 1,
        times: int | None = 1,
        when: Callable[[Any], bool] | None = None,
        applied: bool = False,
    ) -> None:
        """Make the `on_call`-th next call of `operation` (counted from now) raise `error`, and the
        `times - 1` calls after it (None: every call from then on). `when` narrows it to calls whose key
        (loads) or document (saves) it accepts. `applied`: the write happens and only its reply is lost
        (a timeout after DynamoDB applied it; botocore's retry of it then meets its own write)."""
        self._arm(operation, on_call, times, when, error=error, applied=applied)

    def before(
        self, operation: str, run: Callable[[], None], *, on_call: int = 1, when: Callable[[Any], bool] | None = None
    ) -> None:
        """Run `run()` just before the `on_call`-th next call of `operation` goes ahead (once). Before a
        save, that is after its read: another pipeline processing an event there races deterministically."""
        self._arm(operation, on_call, 1, when, run=run)

    def _arm(self, operation: str, on_call: int, times: int | None, when: Any, **what: Any) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {OPERATIONS}")
        self.faults.append(_Fault(operation, self.calls[operation] + on_call - 1, times, when=when, **what))

    def _call(self, operation: str, subject: Any) -> list[BaseException]:
        """Count the call and apply the faults due; returns the errors to raise once it took effect."""
        with self._lock:
            self.calls[operation] += 1
            call = self.calls[operation]
            due = [f for f in self.faults if f.operation == operation and f.applies(call, subject)]
            for fault in due:
                if fault.run is not None:
                    self.faults.remove(fault)  # before it runs, so a nested call cannot run it again
        for fault in due:  # outside the lock: a hook may wait for another thread's call
            if fault.run is not None:
                fault.run()
            if fault.error is not None and not fault.applied:
                raise fault.error
        return [f.error for f in due if f.error is not None and f.applied]

    # -- containers ---------------------------------------------------------------------------------
    def container(self) -> MemoryStateTable:
        """One Lambda container's view of the table: its own cache of what it wrote."""
        return MemoryStateTable(self)

    def service(self, key: str) -> ServiceState | None:
        """The stored state of a service (a consistent read, for assertions; counts no call)."""
        return self._read(f"SERVICE#{key}", ServiceState)

    def account(self, key: str) -> AccountState | None:
        """The stored account correlation item (for assertions; counts no call)."""
        return self._read(f"ACCOUNT#{key}", AccountState)

    def organization(self, hub: str) -> OrganizationState | None:
        """The stored organization item of a hub (for assertions; counts no call)."""
        return self._read(f"ORGANIZATION#{hub}", OrganizationState)

    def _read(self, pk: str, model: type[Doc]) -> Doc | None:
        stored = self.items.get(pk)
        if stored is None:
            return None
        doc = json.loads(stored[1])
        doc["revision"] = stored[0]
        return model.model_validate(doc)

    def _write(self, pk: str, state: Doc, document: str) -> Doc:
        """PutItem conditional on the revision the writer read (`attribute_not_exists` for a new item)."""
        with self._lock:  # check and write are one step, as in DynamoDB
            return self._write_locked(pk, state, document)

    def _write_locked(self, pk: str, state: Doc, document: str) -> Doc:
        if len(pk.encode("utf-8")) > MAX_KEY_BYTES:  # DynamoDB's ValidationException
            raise Unstorable(f"{pk[:100]}…: key is longer than {MAX_KEY_BYTES} bytes")
        current = self.items.get(pk)
        if (current is None and state.revision != 0) or (current is not None and current[0] != state.revision):
            self.stale_writes += 1
            raise StaleWrite(pk)
        if len(document.encode("utf-8")) > MAX_ITEM_BYTES:  # DynamoDB's ValidationException
            raise Unstorable(f"{pk}: Item size has exceeded the maximum allowed size")
        stored = state.model_copy(update={"revision": state.revision + 1})
        self.items[pk] = (stored.revision, document)
        return stored


@dataclass
class MemoryStateTable:
    """`flow.state_items.StateStore` for one container, over a shared MemoryStore (cf. aws/state_table.py)."""

    table: MemoryStore
    cache_entries: int = 256
    _cache: OrderedDict[str, ServiceState | AccountState | OrganizationState] = field(default_factory=OrderedDict)

    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None:
        """The service's state; `fresh` skips this container's copy for a consistent read."""
        return self._load("load_service", f"SERVICE#{service}", service, ServiceState, fresh)

    def is_cached(self, service: str) -> bool:
        """Whether `load_service` would answer from this container's memory."""
        return f"SERVICE#{service}" in self._cache

    def save_service(self, state: ServiceState, expires_after: datetime) -> ServiceState:
        """Write if nobody else did since `state.revision` was read; returns the stored state."""
        return self._save("save_service", f"SERVICE#{state.service}", state)

    def load_account(self, account: str, fresh: bool = False) -> AccountState | None:
        """The account's correlation state; `fresh` skips this container's copy."""
        return self._load("load_account", f"ACCOUNT#{account}", account, AccountState, fresh)

    def save_account(self, state: AccountState, now: datetime) -> AccountState:
        """Write the account item conditionally, like `save_service`."""
        return self._save("save_account", f"ACCOUNT#{state.account}", state)

    def load_organization(self, hub: str, fresh: bool = False) -> OrganizationState | None:
        """The hub's organization item; `fresh` skips this container's copy."""
        return self._load("load_organization", f"ORGANIZATION#{hub}", hub, OrganizationState, fresh)

    def save_organization(self, state: OrganizationState, now: datetime) -> OrganizationState:
        """Write the organization item conditionally, like `save_service`."""
        return self._save("save_organization", f"ORGANIZATION#{state.key}", state)

    def archive_incident(self, incident: Incident) -> None:
        """Keep a closed incident (unconditional, like the real PutItem)."""
        lost_replies = self.table._call("archive_incident", incident)
        self.table.archived[incident.id] = incident.model_copy(deep=True)
        if lost_replies:
            raise lost_replies[0]

    def _load(self, operation: str, pk: str, key: str, model: type[Doc], fresh: bool) -> Doc | None:
        cached = None if fresh else self._cache.get(pk)
        if isinstance(cached, model):
            self._cache.move_to_end(pk)
            return cached
        lost_replies = self.table._call(operation, key)
        found = self.table._read(pk, model)
        if lost_replies:
            raise lost_replies[0]
        return found

    def _save(self, operation: str, pk: str, state: Doc) -> Doc:
        document = _document(pk, state)  # before the PutItem, as StateTable serializes first
        try:
            lost_replies = self.table._call(operation, state)
            stored = self.table._write(pk, state, document)
            if lost_replies:
                raise lost_replies[0]
        except Exception:
            self._cache.pop(pk, None)  # whatever it held may be stale: read afresh next time
            raise
        self._cache.pop(pk, None)
        self._cache[pk] = stored
        while len(self._cache) > self.cache_entries:
            self._cache.popitem(last=False)
        return stored


def _document(pk: str, state: Doc) -> str:
    try:
        document = state.model_dump_json(exclude={"revision"})
        document.encode("utf-8")
    except (ValueError, OverflowError) as error:  # lone surrogates, as StateTable sees them
        raise Unstorable(f"{pk}: cannot be stored: {type(error).__name__}: {error}"[:300]) from error
    return document
