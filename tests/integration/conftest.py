"""Integration fixtures: a moto account with one ECS service and the handler wired to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from tests.integration.service_setup import create_service


@pytest.fixture
def account() -> Iterator[LocalAccount]:
    with local_account() as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        yield sandbox
