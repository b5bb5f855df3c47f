"""boto3 clients built on their first call, not when the adapters are wired: a cold start then builds
only the clients its first events use (one costs ~10 ms of CPU; the events function wires over a dozen,
most of them for rare paths: containment, the gate, parking, the kill switch)."""

from __future__ import annotations

import threading
from typing import Any

import boto3


class LazyClient:
    """Stands for `session.client(service)`: every attribute (an operation, `get_paginator`, `meta`,
    `exceptions`) is the real client's, which is built on the first such access and then kept."""

    def __init__(self, session: boto3.Session, service: str) -> None:
        self._session = session
        self._service = service
        self._client: Any = None
        self._lock = threading.Lock()  # the outbox and the probes may reach one from several threads

    def __getattr__(self, name: str) -> Any:
        return getattr(self.built(), name)

    def built(self) -> Any:
        """The real client (built now if this is its first use)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._session.client(self._service)  # type: ignore[call-overload]
        return self._client

    def __repr__(self) -> str:
        state = "built" if self._client is not None else "not built yet"
        return f"LazyClient({self._service!r}, {state})"


def lazy_client(session: boto3.Session, service: str) -> Any:
    """A `service` client of `session` that is built on its first call."""
    return LazyClient(session, service)
