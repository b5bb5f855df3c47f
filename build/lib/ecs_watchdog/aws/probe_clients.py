"""boto3 clients for the read-only probes: short timeouts, few retries, and a record of every call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config

# A probe must answer within seconds or give up: a diagnosis is worth less than a timely alert.
PROBE_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"})


class ProbeClients:
    """Creates one client per (service, region) on first use, each with the probe Config and an
    event hook that records `service.Operation` for the probe running on the calling thread
    (botocore runs the hook on the thread that makes the call, so parallel probes keep apart)."""

    def __init__(self, session: boto3.Session, region: str | None = None, config: Config = PROBE_CONFIG) -> None:
        self._session = session
        self.region = region or session.region_name or "us-east-1"
        self._config = config
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._current = threading.local()

    def client(self, service: str, region: str | None = None) -> Any:
        """The client for a service in a region (the default region when None)."""
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                created = self._session.client(service, region_name=key[1], config=self._config)
                # Once per API call like `before-call`, but also seen when a Stubber answers the call.
                created.meta.events.register("before-parameter-build", self._record)
                self._clients[key] = created
            return self._clients[key]

    def _record(self, model: Any, **_: Any) -> None:
        recording = getattr(self._current, "calls", None)
        if recording is not None:
            recording.append(f"{model.service_model.endpoint_prefix}.{model.name}")

    @contextmanager
    def recording(self) -> Iterator[list[str]]:
        """Collect the calls made on this thread while the block runs."""
        calls: list[str] = []
        self._current.calls = calls
        try:
            yield calls
        finally:
            self._current.calls = None
