"""Record every AWS call a Lambda function's code makes, and which function made it.

`BaseClient._make_api_call` is the one door every botocore operation goes through: a method call, a
paginator page, Powertools' parameter providers, and calls a `Stubber` or a `before-call` hook answers
(the stub answers inside it, after the door). Patching it for the length of a `CallRecorder` block sees
them all, with the parameters as the code passed them and the client's region.

A call belongs to the function whose entry point (`handlers/<module>.py`) is on the calling thread's
stack. Calls with no entry point on the stack are the test's own set-up (creating clusters, task
definitions, the state table) and are not kept. The diagnosis runs its probes on a thread pool: a task
submitted from a function's thread inherits that function, so the probes' calls count too.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from botocore.client import BaseClient

import ecs_watchdog

PACKAGE = Path(ecs_watchdog.__file__).resolve().parent
ADAPTERS = PACKAGE / "aws"
# The Lambda functions of the stack, by the module of their handler (infra/: `handler=...`).
ENTRY_POINTS = {
    str(PACKAGE / "handlers" / "ecs_events.py"): "events",
    str(PACKAGE / "handlers" / "sweep.py"): "sweep",
    str(PACKAGE / "handlers" / "diagnose.py"): "diagnose",
    str(PACKAGE / "handlers" / "lifecycle_hook.py"): "lifecycle_hook",
    str(PACKAGE / "handlers" / "slack_interactions.py"): "slack_interactions",
}


@dataclass(frozen=True)
class RecordedCall:
    """One AWS call a function made: the botocore service and operation, its parameters as passed, the
    client's region, and the adapter line that made it (`aws/<module>.py:<line>`; None outside aws/)."""

    function: str
    service: str  # botocore service name: ecs, application-autoscaling, elbv2, ...
    iam_prefix: str  # the service's signing name, which is its IAM prefix for every service here
    operation: str
    params: dict[str, Any]
    region: str
    call_site: str | None
    # Whose credentials signed it: the function's own role (None), or a member account's role the hub
    # assumed (organization mode: tests/authz/organization.py registers each session it hands out).
    assumed: tuple[str, str] | None = None  # (account, role name)

    def summary(self, limit: int = 160) -> str:
        """`Operation(param=value, ...)`, cut to `limit` characters: enough to find the call."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k not in ("Message", "MessageBody"))
        text = f"{self.operation}({shown})"
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class CallRecorder:
    """Collects `RecordedCall`s while active (`with CallRecorder() as recorder:`)."""

    calls: list[RecordedCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> CallRecorder:
        self._undo = _install(self._record)
        return self

    def __exit__(self, *_: object) -> None:
        self._undo()

    def _record(self, client: BaseClient, operation: str, params: dict[str, Any]) -> None:
        frame = sys._getframe(2)  # the caller of _make_api_call
        function = _function_on_stack(frame) or getattr(_inherited, "function", None)
        if function is None:
            return
        model = client.meta.service_model
        call = RecordedCall(
            function=function,
            service=model.service_name,
            iam_prefix=model.signing_name,
            operation=operation,
            params=dict(params),
            region=client.meta.region_name,
            call_site=_adapter_line(frame),
            assumed=assumed_identity(client),
        )
        with self._lock:
            self.calls.append(call)

    def of(self, function: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.function == function]


_inherited = threading.local()
# id(credentials) → (the credentials, account, role name) of each member session the hub assumed.
_ASSUMED: dict[int, tuple[Any, str, str]] = {}


def register_assumed(credentials: Any, account: str, role_name: str) -> None:
    """Calls signed with `credentials` are the member role's (kept alive here, so ids are not reused)."""
    _ASSUMED[id(credentials)] = (credentials, account, role_name)


def assumed_identity(client: BaseClient) -> tuple[str, str] | None:
    found = _ASSUMED.get(id(getattr(client._request_signer, "_credentials", None)))
    return (found[1], found[2]) if found else None


def _function_on_stack(frame: FrameType | None) -> str | None:
    while frame is not None:
        function = ENTRY_POINTS.get(frame.f_code.co_filename)
        if function is not None:
            return function
        frame = frame.f_back
    return None


def _adapter_line(frame: FrameType | None) -> str | None:
    while frame is not None:
        path = Path(frame.f_code.co_filename)
        if path.parent == ADAPTERS:
            return f"aws/{path.name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _install(record: Callable[[BaseClient, str, dict[str, Any]], None]) -> Callable[[], None]:
    original_call = BaseClient._make_api_call
    original_submit = ThreadPoolExecutor.submit

    def make_api_call(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        record(client, operation_name, api_params)
        return original_call(client, operation_name, api_params)

    def submit(pool: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        function = _function_on_stack(sys._getframe(1)) or getattr(_inherited, "function", None)
        if function is None:
            return original_submit(pool, fn, *args, **kwargs)

        def as_function(*inner_args: Any, **inner_kwargs: Any) -> Any:
            _inherited.function = function
            try:
                return fn(*inner_args, **inner_kwargs)
            finally:
                _inherited.function = None

        return original_submit(pool, as_function, *args, **kwargs)

    BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]

    def undo() -> None:
        BaseClient._make_api_call = original_call  # type: ignore[method-assign]
        ThreadPoolExecutor.submit = original_submit  # type: ignore[method-assign]

    return undo


@contextmanager
def recording() -> Iterator[CallRecorder]:
    """A CallRecorder for the block."""
    with CallRecorder() as recorder:
        yield recorder
