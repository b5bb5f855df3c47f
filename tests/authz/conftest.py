"""The authorization check, computed once per test run and shared by the xdist workers.

Synthesizing three templates, running each function and one replay, and one node process to evaluate
take a few seconds: the first worker to need the result computes it under a file lock in the run's
shared temporary folder, the other reads it (the pattern pytest-xdist documents for session data).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import pytest

from tests.authz.check import authorization_report
from tests.infra.conftest import NODE_BIN, locked


@pytest.fixture(scope="session")
def report(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Any]:
    if NODE_BIN.exists():
        os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ['PATH']}"
    assert shutil.which("node"), "Node.js is needed (run scripts/bootstrap.sh)"
    if worker_id == "master":
        return dict(json.loads(json.dumps(authorization_report(tmp_path_factory.mktemp("authz")))))
    shared = tmp_path_factory.getbasetemp().parent
    cached = shared / "authz-report.json"
    with locked(shared / "authz-report.lock"):
        if not cached.exists():
            cached.write_text(json.dumps(authorization_report(tmp_path_factory.mktemp("authz"))))
        return dict(json.loads(cached.read_text()))
