"""diagnose_service: describe a service and its primary task definition, then run every probe.

Each probe runs isolated: its own thread, its own record of API calls and time, and any error
becomes that probe's `error` result. Nothing here raises for a probe's sake.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from time import perf_counter
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.probes import (
    probe_image,
    probe_load_balancer,
    probe_logging,
    probe_network,
    probe_secret_access,
    probe_secrets,
)
from ecs_watchdog.diagnose.model import Diagnosis, ProbeName, ProbeResult, ProbeRun, errored
from ecs_watchdog.diagnose.service import check_service_configuration
from ecs_watchdog.diagnose.task_definition import lint_task_definition

logger = Logger(child=True)

_NEEDS_SERVICE_ONLY = frozenset({ProbeName.SERVICE_CONFIGURATION})


def describe_failure(error: Exception) -> str:
    """A one-line reason for an AWS error, naming the operation and the error code."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{error.operation_name}: {details.get('Code')}: {details.get('Message')}"
    if isinstance(error, BotoCoreError):
        return f"{type(error).__name__}: {error}"
    return f"{type(error).__name__}: {error}"


def run_probe(clients: ProbeClients, name: str, probe: Callable[[], ProbeResult]) -> ProbeRun:
    """Run one probe, recording its calls and time; an exception becomes an `error` result."""
    with clients.recording() as calls:
        started = perf_counter()
        try:
            result = probe()
        except Exception as error:  # isolation: one probe's failure must not stop the others
            logger.warning("probe could not finish", extra={"probe": name, "error": describe_failure(error)})
            result = errored(name, describe_failure(error))
        elapsed = perf_counter() - started
    return ProbeRun(result=result, api_calls=tuple(calls), elapsed_seconds=elapsed)


def _probes(
    clients: ProbeClients,
    service: Mapping[str, Any],
    task_definition: Mapping[str, Any],
    read_secret_values: bool,
) -> dict[ProbeName, Callable[[], ProbeResult]]:
    return {
        ProbeName.TASK_DEFINITION: lambda: lint_task_definition(task_definition),
        ProbeName.SERVICE_CONFIGURATION: lambda: check_service_configuration(service),
        ProbeName.IMAGE: lambda: probe_image(clients, task_definition),
        ProbeName.SECRETS: lambda: probe_secrets(clients, task_definition, read_secret_values=read_secret_values),
        ProbeName.SECRET_ACCESS: lambda: probe_secret_access(clients, task_definition),
        ProbeName.LOGGING: lambda: probe_logging(clients, task_definition),
        ProbeName.LOAD_BALANCER: lambda: probe_load_balancer(clients, service, task_definition),
        ProbeName.NETWORK: lambda: probe_network(clients, service, task_definition),
    }


def primary_task_definition(service: Mapping[str, Any]) -> str | None:
    """The task definition of the PRIMARY deployment (the one ECS is rolling out), else the service's."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return str(deployment["taskDefinition"])
    return service.get("taskDefinition")


def diagnose_service(
    clients: ProbeClients,
    cluster: str,
    service: str,
    *,
    read_secret_values: bool = False,
    probes: Collection[str] | None = None,
    max_workers: int = 4,
) -> Diagnosis:
    """Run the probes (all, or the ones named) against a service's primary task definition.

    Never raises: when the service or its task definition cannot be described, the probes that
    need it are `error` results saying why.
    """
    started = perf_counter()
    wanted = [name for name in ProbeName if probes is None or name in probes]
    with clients.recording() as lookups:
        described, task_definition, reason = _look_up(clients, cluster, service)
    arn = task_definition.get("taskDefinitionArn") if task_definition else primary_task_definition(described or {})
    runnable = _probes(clients, described or {}, task_definition or {}, read_secret_values)

    def run(name: ProbeName) -> ProbeRun:
        missing = described is None or (task_definition is None and name not in _NEEDS_SERVICE_ONLY)
        if missing:
            return ProbeRun(result=errored(name, reason or "nothing to look at"))
        return run_probe(clients, name, runnable[name])

    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        runs = tuple(pool.map(run, wanted))
    calls = tuple(lookups) + tuple(call for r in runs for call in r.api_calls)
    return Diagnosis(
        cluster=cluster,
        service=service,
        task_definition_arn=arn,
        runs=runs,
        api_calls=calls,
        elapsed_seconds=perf_counter() - started,
    )


def _look_up(
    clients: ProbeClients, cluster: str, service: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, str | None]:
    """(service, task definition, why not) from DescribeServices and DescribeTaskDefinition."""
    ecs = clients.client("ecs")
    try:
        found = ecs.describe_services(cluster=cluster, services=[service]).get("services", [])
    except Exception as error:
        return None, None, f"cannot describe the service: {describe_failure(error)}"
    if not found:
        return None, None, f"ECS does not know service {service} in cluster {cluster}"
    described = found[0]
    arn = primary_task_definition(described)
    if not arn:
        return described, None, "the service names no task definition"
    try:
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    except Exception as error:
        return described, None, f"cannot describe task definition {arn}: {describe_failure(error)}"
    return described, definition, None
