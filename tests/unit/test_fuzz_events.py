"""Fuzz every ECS event model through parse_envelope, Intake.record and Intake.console (on the in-memory
fakes): whatever arrives, a record is processed, parked with its reason, or handed back to SQS after an
error log that says why; the console always answers. Strategies: tests/event_strategies.py; the number
of cases comes from the hypothesis profile loaded in tests/conftest.py (`ci`: 2,100 in all; `thorough`:
10,500)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_watchdog.conflicts import StaleWrite, StoreBusy
from ecs_watchdog.events import EARLIEST, LATEST, MalformedEvent, parse_envelope
from ecs_watchdog.flow.intake import Intake
from ecs_watchdog.flow.pipeline import Outcome
from ecs_watchdog.flow.sqs_text import sqs_text
from ecs_watchdog.incidents.model import TransitionKind, Unstorable
from tests.event_strategies import (
    DETAIL_TYPES,
    HOME,
    bodies,
    events,
    in_episode,
    json_text,
    junk,
    snapshots,
    texts,
)
from tests.fakes import (
    OPERATIONS,
    Clock,
    MemoryServices,
    MemoryStore,
    RecordingChannel,
    RecordingParker,
    watchdog,
)
from tests.integration.incident_events import stopped

BASE = settings().max_examples  # the loaded profile's; each test runs a share of it (shares sum to 5.25)
OUTCOME_KINDS = {"transition", "counted", "benign", "ignored"}
CONSOLE_KEYS = {"outcome", "reason", "category", "failure", "transitions", "channels"}
VISIBILITY_TIMEOUT_SECONDS = 360  # SQS hands a failed record out again after this (infra/ingest.py)


def share(fraction: float) -> settings:
    return settings(max_examples=max(1, int(BASE * fraction)))


class Captured(logging.Handler):
    """Keeps every record; renders warnings and errors with Powertools' JSON formatter, as Lambda would."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.DEBUG)
        self.json = formatter
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING and self.json is not None:
            json.loads(self.json.format(record))  # a rejection whose log line cannot be written is lost
        self.records.append(record)


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """What the watchdog's Powertools loggers emit (they all hang off the `ecs-watchdog` logger). Only
    this handler sees them meanwhile: writing ten thousand cases' logs to stdout would double the time."""
    parent = logging.getLogger("ecs-watchdog")
    others, propagate = list(parent.handlers), parent.propagate
    handler = Captured(others[0].formatter if others else None)
    for other in others:
        parent.removeHandler(other)
    parent.propagate = False
    parent.addHandler(handler)
    try:
        yield handler.records
    finally:
        parent.removeHandler(handler)
        for other in others:
            parent.addHandler(other)
        parent.propagate = propagate


@dataclass
class Rig:
    """One container's pipeline on the in-memory fakes, with a recording parker."""

    store: MemoryStore = field(default_factory=MemoryStore)
    services: MemoryServices = field(default_factory=MemoryServices)
    sns: RecordingChannel = field(default_factory=lambda: RecordingChannel("sns"))
    slack: RecordingChannel = field(default_factory=lambda: RecordingChannel("slack"))
    parker: RecordingParker = field(default_factory=RecordingParker)
    clock: Clock = field(default_factory=Clock)
    home: tuple[str, str] | None = HOME

    def __post_init__(self) -> None:
        pipeline = watchdog(
            self.store, channels=[self.sns, self.slack], services=self.services, clock=self.clock, home=self.home
        )
        self.intake = Intake(pipeline, self.parker)

    def leftovers(self) -> list[str]:
        """Transitions still in any outbox (undelivered)."""
        left: list[str] = []
        for pk in self.store.items:
            kind, key = pk.split("#", 1)
            doc = self.store.service(key) if kind == "SERVICE" else self.store.account(key)
            left += [t.id for t in doc.outbox] if doc else []
        return left

    def assert_nothing_sent_twice(self) -> None:
        for channel in (self.sns, self.slack):
            assert len(channel.ids()) == len(set(channel.ids())), f"{channel.name} sent a transition twice"


def record(rig: Rig, body: str, message_id: str) -> Outcome | None:
    """`Intake.record`: a parker that refuses what SQS refuses must never be handed such text."""
    return rig.intake.record(body, message_id)


def assert_recorded(outcome: Outcome | None, rig: Rig, logs: list[logging.LogRecord], body: str, message_id: str):
    """A record was either processed (and its outcome logged with the reason) or parked with a reason."""
    if outcome is None:
        parked_body, reason, parked_id = rig.parker.parked[-1]
        # Verbatim, but for what SQS could never have delivered (the fuzz makes such bodies; SQS cannot).
        assert (parked_body, parked_id) == (sqs_text(body), message_id) and reason.strip()
        assert any(r.levelno >= logging.ERROR and getattr(r, "reason", None) == reason for r in logs), reason
        return
    assert isinstance(outcome, Outcome) and outcome.kind in OUTCOME_KINDS
    assert any(r.getMessage() == "event processed" and getattr(r, "reason", None) == outcome.reason for r in logs)


# --------------------------------------------------------------------------------------------------
# (a) parse_envelope


@share(2.5)
@given(st.one_of(events, bodies, junk, st.lists(events, max_size=2)))
def test_parse_envelope_returns_a_typed_event_or_raises_malformed_event_saying_why(raw: Any):
    try:
        event = parse_envelope(raw)
    except MalformedEvent as error:
        assert str(error).strip()
        return
    assert event.detail_type in DETAIL_TYPES and event.source == "aws.ecs"
    assert event.time.tzinfo is not None and EARLIEST <= event.time < LATEST


@pytest.mark.parametrize("raw", [b"\x80{}", b'{"source": "\xff"}', b"\xff\xfe\x00"])
def test_bytes_that_are_not_text_are_a_malformed_event(raw: bytes):
    with pytest.raises(MalformedEvent):
        parse_envelope(raw)


def test_a_record_unstorable_for_a_lone_surrogate_in_its_name_is_parked_with_a_reason_sqs_accepts():
    rig = Rig()
    body = json_text(stopped(1, 1, service="svc-\udfff"))  # ASCII JSON text: SQS carries it fine

    try:
        outcome, failure = rig.intake.record(body, "m-1"), None
    except Exception as error:
        # ascii(): a lone surrogate in a failure report would crash pytest-xdist's worker channel.
        outcome, failure = None, ascii(error)
    assert failure is None, failure
    assert outcome is None and rig.parker.parked[0][1].startswith("unstorable:")


class BrokenParker(RecordingParker):
    def park(self, body: str, reason: str, message_id: str) -> None:
        raise ConnectionError("sqs: HTTP 503 Service Unavailable")


def test_a_record_that_cannot_be_parked_is_handed_back_after_an_error_log_saying_why():
    rig = Rig(parker=BrokenParker())
    with captured_logs() as logs, pytest.raises(ConnectionError):
        rig.intake.record("not json", "m-1")
    said = [f"{getattr(r, 'reason', '')} {getattr(r, 'problem', '')}" for r in logs if r.levelno >= logging.ERROR]
    assert "not JSON" in " ".join(said) and "ConnectionError" in " ".join(said)


# --------------------------------------------------------------------------------------------------
# (b) Intake.record


@share(0.9)
@given(body=bodies, snapshot=snapshots, home=st.sampled_from([HOME, None]))
def test_a_record_is_processed_or_parked_with_its_reason_and_never_raises(body: str, snapshot: Any, home: Any):
    rig = Rig(services=MemoryServices(default=snapshot), home=home)
    with captured_logs() as logs:
        outcome = record(rig, body, "m-1")
    assert_recorded(outcome, rig, logs, body, "m-1")
    assert rig.sns.ids() == rig.slack.ids()


@share(0.35)
@given(
    records=st.lists(st.one_of(in_episode.map(json_text), in_episode.map(json_text), bodies), min_size=2, max_size=6),
    snapshot=snapshots,
)
def test_records_of_one_episode_are_each_announced_once_and_none_is_left_behind(records: list[str], snapshot: Any):
    rig = Rig(services=MemoryServices(default=snapshot))
    for n, body in enumerate(records):
        with captured_logs() as logs:
            outcome = record(rig, body, f"m-{n}")
        assert_recorded(outcome, rig, logs, body, f"m-{n}")
    rig.assert_nothing_sent_twice()
    assert rig.sns.ids() == rig.slack.ids()
    assert rig.leftovers() == []  # nothing failed, so nothing waits for a later event


# --------------------------------------------------------------------------------------------------
# (b) with faults: the retry path


errors = st.sampled_from(
    [
        lambda: StoreBusy("ThrottlingException"),
        lambda: StaleWrite("another writer"),
        lambda: RuntimeError("AccessDeniedException"),
        lambda: Unstorable("Item size has exceeded the maximum allowed size"),
    ]
)
faults = st.tuples(st.sampled_from(OPERATIONS), errors, st.integers(1, 4), st.one_of(st.integers(1, 12), st.none()))


@share(0.25)
@given(
    body=st.one_of(st.just(json_text(stopped(3, 3))), in_episode.map(json_text)),
    store_faults=st.lists(faults, max_size=2),
    sns_failures=st.integers(0, 2),
    slack_unavailable=st.booleans(),
    describe_fails=st.booleans(),
)
def test_with_faults_a_record_is_done_parked_or_handed_back_after_logging_why_and_its_retry_completes(
    body: str, store_faults: list[Any], sns_failures: int, slack_unavailable: bool, describe_fails: bool
):
    rig = Rig()
    for n in (1, 2):  # two failures of prod/api: the third opens an incident
        rig.intake.record(json_text(stopped(n, n)), f"m-{n}")
    for operation, error, on_call, times in store_faults:
        rig.store.inject(operation, error(), on_call=on_call, times=times)
    rig.sns.fail(sns_failures)
    rig.slack.unavailable = slack_unavailable
    rig.services.error = RuntimeError("ThrottlingException") if describe_fails else None

    handed_back, outcome = False, None
    with captured_logs() as logs:
        try:
            outcome = rig.intake.record(body, "m-3")
        except Exception as error:
            handed_back = True
            problem = f"{type(error).__name__}: {error}"[:1000]
            assert any(r.levelno >= logging.ERROR and getattr(r, "problem", None) == problem for r in logs)
        else:
            assert_recorded(outcome, rig, logs, body, "m-3")

    rig.store.faults.clear()  # the faults pass
    rig.sns.recover()
    rig.services.error = None
    if handed_back:  # SQS delivers it again once the visibility timeout is over
        rig.clock.advance(seconds=VISIBILITY_TIMEOUT_SECONDS)
        with captured_logs() as logs:
            outcome = record(rig, body, "m-3")
        assert_recorded(outcome, rig, logs, body, "m-3")
    # Later events of the service, after every lease ran out, pick up whatever is left.
    rig.clock.advance(seconds=VISIBILITY_TIMEOUT_SECONDS)
    for n, later in enumerate((body, json_text(stopped(4, 4))), start=4):
        record(rig, later, f"m-{n}")
    rig.assert_nothing_sent_twice()
    reported = {t.id for t in (outcome.transitions if outcome else ()) if t.kind is not TransitionKind.CLOSED}
    assert reported <= set(rig.sns.ids())
    assert set(rig.leftovers()) <= set(rig.sns.ids())  # at most delivered ones whose acknowledgement was lost


# --------------------------------------------------------------------------------------------------
# (c) Intake.console


@share(1.25)
@given(st.one_of(events, events, bodies, junk, st.lists(events, max_size=2), st.dictionaries(texts, junk, max_size=3)))
def test_the_console_answers_with_an_outcome_or_an_error_and_never_raises(payload: Any):
    rig = Rig()
    with captured_logs() as logs:
        answer = rig.intake.console(payload)
    json.dumps(answer)  # the Lambda runtime returns it as JSON
    if "error" in answer:
        assert set(answer) == {"error"} and answer["error"].strip()
        assert any(r.levelno >= logging.WARNING and getattr(r, "problem", "").strip() for r in logs)
    else:
        assert set(answer) == CONSOLE_KEYS and answer["outcome"] in OUTCOME_KINDS
