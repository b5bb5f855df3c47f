"""Shared test setup: fake AWS credentials (nothing may reach AWS) and fixture loaders."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

FIXTURES = Path(__file__).parent / "fixtures"

# Set before any boto3 client exists, so no test can pick up real credentials.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
    "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
    # moto's catalogue of public AMIs costs a second per account and region EC2 is touched in; no test
    # launches from it (tests/integration/instance_health.py registers an image of its own).
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_PROFILE", None)


def load_event(name: str) -> dict[str, Any]:
    """A sample event copied from the AWS documentation (see `_source` in the file)."""
    return json.loads((FIXTURES / "events" / f"{name}.json").read_text())["event"]


@pytest.fixture
def stopped_event() -> dict[str, Any]:
    return load_event("task_state_change_stopped")


# Hypothesis: `ci` (the default, `make test`) is deterministic (the same cases every run, so a failure
# reproduces from its printed blob) and sized for the suite's time budget: the event fuzz runs 2,100
# cases (tests/unit/test_fuzz_events.py). `HYPOTHESIS_PROFILE=thorough` is the same seeded run at five
# times the size (10,500 fuzz cases); `HYPOTHESIS_PROFILE=dev` explores new random cases instead.
_SEEDED = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", max_examples=400, **_SEEDED)
settings.register_profile("thorough", max_examples=2000, **_SEEDED)
settings.register_profile("dev", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
