"""The lifecycle hook's Lambda entry point answers ECS even when it cannot start."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecs_watchdog.contain.models import Mode
from ecs_watchdog.gate.lambda_hook import LambdaHookGate
from ecs_watchdog.handlers import lifecycle_hook
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from tests.unit.containment_builders import NOW, incident
from tests.unit.test_lambda_hook_gate import PAYLOAD, FakeRevisions, FakeStore, state


@pytest.fixture(autouse=True)
def fresh_gate() -> Iterator[None]:
    lifecycle_hook._gate = None
    yield
    lifecycle_hook._gate = None


def test_handler_returns_the_gates_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = LambdaHookGate(FakeRevisions(), FakeStore(state(incident(6))), mode=Mode.ENFORCE, clock=lambda: NOW)
    lifecycle_hook._gate = gate
    assert lifecycle_hook.handler(PAYLOAD, LocalLambdaContext()) == {"hookStatus": "FAILED"}


def test_a_function_without_its_table_name_answers_succeeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_TABLE_NAME", raising=False)
    assert lifecycle_hook.handler(PAYLOAD, LocalLambdaContext()) == {"hookStatus": "SUCCEEDED"}
    assert lifecycle_hook._gate is None  # built again on the next invocation, once it is fixed


def test_a_function_with_a_mode_that_is_not_one_answers_succeeded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_TABLE_NAME", "state")
    monkeypatch.setenv("WATCHDOG_MODE", "enforcing")
    assert lifecycle_hook.handler(PAYLOAD, LocalLambdaContext()) == {"hookStatus": "SUCCEEDED"}
    assert lifecycle_hook._gate is None
