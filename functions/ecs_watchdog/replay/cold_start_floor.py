"""The cold start's floor, measured by `ecs-watchdog bench` beside the handlers: what any handler built from the
design card's packages imports before a line of ours runs — boto3, Powertools' Logger and Metrics, and pydantic
with one model (the first model defined pays pydantic's own lazy imports). Issue 23's goal (the events
handler's import at most 1.5x a bare `import boto3`) is read against it."""

from __future__ import annotations

import boto3  # noqa: F401  (imported for its cost)
from aws_lambda_powertools import Logger, Metrics  # noqa: F401
from pydantic import BaseModel, ConfigDict, Field


class OneModel(BaseModel):
    """One model as ours are declared: frozen, schema deferred, a constrained field."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    count: int = Field(default=1, ge=1)
