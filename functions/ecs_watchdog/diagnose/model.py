"""What a diagnosis says: one result per read-only probe, and the run that produced it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

ProbeStatus = Literal["pass", "fail", "error", "skipped"]


class ProbeName(StrEnum):
    """The probes a diagnosis can run; the names are stable (messages and tests use them)."""

    TASK_DEFINITION = "task_definition"
    SERVICE_CONFIGURATION = "service_configuration"
    IMAGE = "image"
    SECRETS = "secrets"
    SECRET_ACCESS = "secret_access"
    LOGGING = "logging"
    LOAD_BALANCER = "load_balancer"
    NETWORK = "network"


class ProbeResult(BaseModel):
    """One probe's verdict. `fail` means the probe found a cause; `error` means it could not look."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    status: ProbeStatus
    summary: str
    evidence: tuple[str, ...] = ()
    resource: str | None = None


Evidence = list[str] | tuple[str, ...]


def passed(name: str, summary: str, evidence: Evidence = (), resource: str | None = None) -> ProbeResult:
    """A `pass` result."""
    return ProbeResult(name=name, status="pass", summary=summary, evidence=tuple(evidence), resource=resource)


def failed(name: str, summary: str, evidence: Evidence = (), resource: str | None = None) -> ProbeResult:
    """A `fail` result: the probe found something that explains (or risks) failed tasks."""
    return ProbeResult(name=name, status="fail", summary=summary, evidence=tuple(evidence), resource=resource)


def skipped(name: str, summary: str, resource: str | None = None) -> ProbeResult:
    """A `skipped` result: nothing to check, or nothing this probe can check."""
    return ProbeResult(name=name, status="skipped", summary=summary, resource=resource)


def errored(name: str, reason: str, resource: str | None = None) -> ProbeResult:
    """An `error` result: the probe could not finish (permission, throttling, timeout, bad input)."""
    return ProbeResult(name=name, status="error", summary=f"could not check: {reason}", resource=resource)


class ProbeRun(BaseModel):
    """A probe's result with what it cost: the AWS operations it called and the time it took."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    result: ProbeResult
    api_calls: tuple[str, ...] = ()  # "service.Operation", in call order
    elapsed_seconds: float = 0.0


class Diagnosis(BaseModel):
    """Every probe run for one service's primary task definition."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    cluster: str
    service: str
    task_definition_arn: str | None
    runs: tuple[ProbeRun, ...]
    api_calls: tuple[str, ...] = ()  # every call, including the look-ups the probes share
    elapsed_seconds: float = 0.0

    @property
    def results(self) -> tuple[ProbeResult, ...]:
        """The probes' verdicts, in run order."""
        return tuple(run.result for run in self.runs)

    def result(self, name: str) -> ProbeResult | None:
        """The verdict of one probe, None when it did not run."""
        return next((r for r in self.results if r.name == name), None)

    @property
    def failures(self) -> tuple[ProbeResult, ...]:
        """The probes that found a cause."""
        return tuple(r for r in self.results if r.status == "fail")

    def confirms(self, probes: tuple[str, ...] | frozenset[str]) -> bool:
        """Whether any of these probes (e.g. `probes_for(category)`) found a cause."""
        return any(r.name in probes for r in self.failures)
