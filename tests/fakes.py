"""In-memory adapters that behave like the real ones (not mocks), for pipeline tests without moto.

- `MemoryStore` is the state table: JSON documents with a revision counter and conditional writes,
  shared by every "container". `store.container()` is one Lambda container's `StateStore`, with its
  own cache of its own writes, exactly as `aws/state_table.StateTable` keeps one. Faults (StoreBusy,
  Unstorable, anything) can be injected on the Nth call of an operation, and code can be run just
  before a call, so two pipelines race deterministically (both read, then both write).
- `MemoryServices` answers DescribeServices with a `ServiceSnapshot`, None, or an error.
- `RecordingChannel` renders like the real channel and records what it sent; it can be scripted to
  fail N times, to be unavailable (misconfigured), or to fail always.
- `Clock` is a settable wall clock; `RecordingParker` records parked records.

`watchdog(store, ...)` builds a Pipeline from them; two calls over one store are two containers.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.channels import ChannelUnavailable
from ecs_watchdog.announce.outbox import Outbox
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.engine import DeploymentSnapshot, ServiceSnapshot
from ecs_watchdog.incidents.model import Incident, ServiceState, StaleWrite, Transition, Unstorable
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.notify.render import render_transition_slack, render_transition_sns
from ecs_watchdog.pipeline import Pipeline

Doc = TypeVar("Doc", ServiceState, AccountState)
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit: bigger writes fail with ValidationException
SQS_REFUSES = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_KEY_BYTES = 2048  # DynamoDB's partition key limit, likewise

# The modules' child loggers need their parent, which the Lambda handler module creates at import
# (without it, Intake.record raises OrphanedChildLoggerError setting the correlation id).
service_logger = Logger(service="ecs-watchdog")

OPERATIONS = ("load_service", "save_service", "load_account", "save_account", "archive_incident")


def no_pause(attempt: int) -> None:
    """Retry without sleeping: the fakes answer at once, and tests must not wait."""


class ContainerDied(BaseException):
    """The Lambda container stopped mid-invocation (timeout, crash): nothing after this point runs.

    A BaseException, so the pipeline's `except Exception` handlers cannot absorb it, just as they
    cannot absorb a container being frozen or killed."""


# --------------------------------------------------------------------------------------------------
# The state table


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
    """`pipeline.StateStore` for one container, over a shared MemoryStore (cf. aws/state_table.py)."""

    table: MemoryStore
    cache_entries: int = 256
    _cache: OrderedDict[str, ServiceState | AccountState] = field(default_factory=OrderedDict)

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


# --------------------------------------------------------------------------------------------------
# ECS


T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)


def completed_snapshot(task_definition: str, deployment_id: str = "ecs-svc/1000000000000000001") -> ServiceSnapshot:
    """DescribeServices of a service settled on `task_definition` (its PRIMARY deployment COMPLETED)."""
    return ServiceSnapshot(
        deployments=(
            DeploymentSnapshot(deployment_id, task_definition, "PRIMARY", "COMPLETED", T0 - timedelta(days=1)),
        )
    )


@dataclass
class MemoryServices:
    """`pipeline.ServiceLookup`: a snapshot per (cluster, service), `default` for the rest, or an error."""

    snapshots: dict[tuple[str, str], ServiceSnapshot | None] = field(default_factory=dict)
    default: ServiceSnapshot | None = None
    error: Exception | None = None  # raised by every look-up while set (throttling, a missing permission)
    lookups: list[tuple[str, str]] = field(default_factory=list)

    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None:
        """The service's deployments and tags; None when ECS does not know the service."""
        self.lookups.append((cluster, service))
        if self.error is not None:
            raise self.error
        return self.snapshots.get((cluster, service), self.default)


# --------------------------------------------------------------------------------------------------
# Channels, clock, parking


@dataclass(frozen=True)
class Sent:
    transition: Transition
    ref: ServiceRef
    rendered: str  # the text the real channel would hand to its adapter


@dataclass
class RecordingChannel:
    """An announcement channel that renders like `SnsChannel` / `SlackChannel` (by its name), checks what
    the real service would refuse, and records what it sent.

    Scripting: `fail(times, when=...)` fails the next sends (matching `when`) with a passing error;
    `unavailable` raises ChannelUnavailable (misconfigured); `always_fail` fails every send;
    `during_send` runs once inside a send, before it completes (this invocation is still delivering)."""

    name: str
    sent: list[Sent] = field(default_factory=list)
    unavailable: bool = False
    always_fail: bool = False
    during_send: Callable[[Transition], None] | None = None
    attempts: int = 0
    _failures: list[list[Any]] = field(default_factory=list)  # [sends left to fail, which transitions]

    def fail(self, times: int = 1, *, when: Callable[[Transition], bool] | None = None) -> None:
        """Fail the next `times` sends (of transitions `when` accepts) with a passing error (an HTTP 503)."""
        self._failures.append([times, when])

    def recover(self) -> None:
        """Work again: forget every scripted failure."""
        self._failures.clear()
        self.unavailable = self.always_fail = False

    def send(self, transition: Transition, ref: ServiceRef) -> None:
        """Render, check and record; or fail as scripted."""
        self.attempts += 1
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook(transition)
        if self.unavailable:
            raise ChannelUnavailable(f"{self.name}: secret not found")
        if self.always_fail:
            raise ConnectionError(f"{self.name}: connection refused")
        for failure in self._failures:
            if failure[0] > 0 and (failure[1] is None or failure[1](transition)):
                failure[0] -= 1
                raise ConnectionError(f"{self.name}: HTTP 503 Service Unavailable")
        if self.name == "slack":
            payload = render_transition_slack(transition, ref)
            check_slack_payload(payload)
            rendered = json.dumps(payload, ensure_ascii=False)
        else:
            message = render_transition_sns(transition, ref)
            check_sns_message(message.subject, message.body)
            rendered = f"{message.subject}\n{message.body}"
        self.sent.append(Sent(transition, ref, rendered))

    def ids(self) -> list[str]:
        """Ids of the transitions sent, in order (a repeated id is a duplicate message)."""
        return [s.transition.id for s in self.sent]


class Refused(ValueError):
    """The real service would refuse this message (a limit or an encoding it does not accept)."""


def check_sns_message(subject: str, body: str) -> None:
    """SNS Publish: Subject printable ASCII, one line, under 100 characters; Message UTF-8, at most 256 KB."""
    if not (len(subject) < 100 and all(32 <= ord(c) < 127 for c in subject)):
        raise Refused(f"SNS subject refused: {subject!r}")
    if len(_utf8(body)) > 256 * 1024:
        raise Refused(f"SNS message of {len(_utf8(body))} bytes is over 256 KB")


def check_slack_payload(payload: dict[str, Any]) -> None:
    """Slack Block Kit: at most 50 blocks; header text 150, section text 3,000, 10 fields of 2,000 each."""
    _utf8(json.dumps(payload, ensure_ascii=False))
    blocks = payload.get("blocks", [])
    if len(blocks) > 50:
        raise Refused(f"{len(blocks)} blocks (Slack takes 50)")
    for block in blocks:
        text = block.get("text", {}).get("text", "")
        limit = 150 if block["type"] == "header" else 3000
        if len(text) > limit:
            raise Refused(f"{block['type']} text of {len(text)} characters (Slack takes {limit})")
        fields = block.get("fields", [])
        if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
            raise Refused(f"section fields over Slack's limits: {len(fields)}")
        if len(block.get("elements", [])) > 10:
            raise Refused("more than 10 context elements")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:  # botocore and urllib send UTF-8: a lone surrogate fails there
        raise Refused(f"not encodable as UTF-8: {error}") from error


@dataclass
class Clock:
    """A settable wall clock (the outbox's leases read it)."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **by: float) -> None:
        """Move on by `timedelta(**by)`, e.g. `clock.advance(seconds=91)`."""
        self.now += timedelta(**by)


@dataclass
class RecordingParker:
    """`intake.Parking`: records what would go to the events DLQ, with its reason."""

    parked: list[tuple[str, str, str]] = field(default_factory=list)  # (body, reason, message id)

    def park(self, body: str, reason: str, message_id: str) -> None:
        """Record it, refusing what SendMessage would refuse (as aws/parking.ParkedRecords sends it)."""
        try:
            for text in (body, reason[:1000] or "unknown", message_id or "unknown"):
                check_sqs_text(text)
        except Refused as error:
            raise ParkingRefused(str(error)) from error
        self.parked.append((body, reason, message_id))


class ParkingRefused(Refused):
    """SendMessage to the DLQ would refuse this record or its reason."""


def check_sqs_text(text: str) -> None:
    """SQS message bodies and attribute values: UTF-8 text of the characters XML allows (no lone
    surrogates, no control characters but tab, newline and carriage return)."""
    _utf8(text)
    refused = SQS_REFUSES.search(text)
    if refused:
        raise Refused(f"SQS refuses character U+{ord(refused.group()):04X} in a message")


# --------------------------------------------------------------------------------------------------


def watchdog(
    store: MemoryStore,
    *,
    channels: Iterable[RecordingChannel] | None = None,
    services: MemoryServices | None = None,
    clock: Clock | None = None,
    lease: timedelta = timedelta(seconds=90),
    policy: LoopPolicy | None = None,
    home: tuple[str, str] | None = None,
) -> Pipeline:
    """A Pipeline as one Lambda container over `store`: its own cache, its own outbox memory."""
    return Pipeline(
        state=store.container(),
        services=services or MemoryServices(),
        outbox=Outbox(
            list(channels) if channels is not None else [RecordingChannel("sns"), RecordingChannel("slack")],
            clock=clock or Clock(),
            lease=lease,
            pause=no_pause,
        ),
        policy=policy or LoopPolicy(),
        home=home,
        pause=no_pause,
    )
