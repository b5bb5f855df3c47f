"""Adapters built on their first use, not when the function is wired: a cold start then builds only
what its first events need. A boto3 client costs ~10 ms of CPU and the events function wires over a
dozen, most for rare paths (containment, the gate, parking, the kill switch); the deployment gate's
modules serve PAUSE hook events only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3


class OnFirstUse:
    """Stands for what `build` returns: every attribute (a method, `meta`, `exceptions`) is the built
    object's, which is built on the first such access and then kept."""

    def __init__(self, build: Callable[[], Any], name: str) -> None:
        self._build = build
        self._name = name
        self._built: Any = None
        self._lock = threading.Lock()  # the outbox and the probes may reach one from several threads

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self.built(), attribute)

    def built(self) -> Any:
        """The real object (built now if this is its first use)."""
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def __repr__(self) -> str:
        return f"OnFirstUse({self._name!r}, {'built' if self._built is not None else 'not built yet'})"


def lazy_client(session: boto3.Session, service: str) -> Any:
    """A `service` client of `session` that is built on its first call."""
    return OnFirstUse(lambda: session.client(service), f"{service} client")  # type: ignore[call-overload]
