"""Task definition lint: what ECS will refuse or fail on, read from a DescribeTaskDefinition dict.

Pure. It also reads templates that never registered (seed 001's `${AWS_ACCOUNT_ID}` role ARN is
rejected by RegisterTaskDefinition itself), so it accepts anything shaped like a task definition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from itertools import pairwise
from typing import Any

from ecs_watchdog.diagnose.model import ProbeName, ProbeResult, failed, passed
from ecs_watchdog.diagnose.references import (
    awslogs_configurations,
    containers,
    is_fargate,
    parse_ecr_image,
    secret_references,
    unwrap,
)

# Text a template engine or a person left for someone else to fill in.
_PLACEHOLDERS = (
    re.compile(r"\$\{[^}]*\}"),
    re.compile(r"\{\{[^}]*\}\}"),
    re.compile(r"<[A-Za-z][\w.:-]*>"),  # <account-id>; not "a<b and c>d"
    re.compile(r"REPLACE[_-]?ME", re.IGNORECASE),
    re.compile(r"\bchange[_-]?me\b", re.IGNORECASE),
    re.compile(r"\bTODO\b"),
)

# Fargate's task cpu (units) -> the memory sizes (MiB) it accepts, from the ECS developer guide.
FARGATE_MEMORY_BY_CPU: dict[int, frozenset[int]] = {
    256: frozenset({512, 1024, 2048}),
    512: frozenset(range(1024, 4096 + 1, 1024)),
    1024: frozenset(range(2048, 8192 + 1, 1024)),
    2048: frozenset(range(4096, 16384 + 1, 1024)),
    4096: frozenset(range(8192, 30720 + 1, 1024)),
    8192: frozenset(range(16384, 61440 + 1, 4096)),  # Linux platform 1.4.0 or later
    16384: frozenset(range(32768, 122880 + 1, 8192)),  # Linux platform 1.4.0 or later
}

_VCPU = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GB = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)


def placeholders_in(text: str) -> list[str]:
    """The unresolved placeholders in a string, in order of appearance."""
    found = [(m.start(), m.group(0)) for pattern in _PLACEHOLDERS for m in pattern.finditer(text)]
    return [token for _, token in sorted(found)]


def _fields(task_definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, value) for every field a placeholder would break: images, environment, ARNs, roles."""
    definition = unwrap(task_definition)
    for key in ("executionRoleArn", "taskRoleArn"):
        if definition.get(key):
            yield key, str(definition[key])
    for container in containers(definition):
        name = container.get("name", "?")
        if container.get("image"):
            yield f"container {name} image", str(container["image"])
        for variable in container.get("environment") or []:
            yield f"container {name} environment {variable.get('name')}", str(variable.get("value", ""))
        for env_file in container.get("environmentFiles") or []:
            yield f"container {name} environment file", str(env_file.get("value", ""))
        for secret in container.get("secrets") or []:
            yield f"container {name} secret {secret.get('name')}", str(secret.get("valueFrom", ""))
        credentials = (container.get("repositoryCredentials") or {}).get("credentialsParameter")
        if credentials:
            yield f"container {name} repository credentials", str(credentials)
        log = container.get("logConfiguration") or {}
        for option, value in (log.get("options") or {}).items():
            yield f"container {name} log option {option}", str(value)
        for option in log.get("secretOptions") or []:
            yield f"container {name} log secret {option.get('name')}", str(option.get("valueFrom", ""))


def parse_cpu_units(value: object) -> int | None:
    """Task cpu as ECS stores it: "256", 256 or "0.25 vCPU" -> 256; None when absent or unreadable."""
    if value is None or value == "":
        return None
    text = str(value)
    if match := _VCPU.match(text):
        return round(float(match[1]) * 1024)
    return int(text) if text.strip().isdigit() else None


def parse_memory_mib(value: object) -> int | None:
    """Task memory as ECS stores it: "512", 512 or "1 GB" -> MiB; None when absent or unreadable."""
    if value is None or value == "":
        return None
    text = str(value)
    if match := _GB.match(text):
        return round(float(match[1]) * 1024)
    return int(text) if text.strip().isdigit() else None


def fargate_size_problem(cpu: object, memory: object) -> str | None:
    """Why Fargate refuses this task cpu/memory pair, or None when it accepts it."""
    units, mib = parse_cpu_units(cpu), parse_memory_mib(memory)
    if units is None or mib is None:
        return f"Fargate needs task-level cpu and memory (cpu={cpu!r}, memory={memory!r})"
    allowed = FARGATE_MEMORY_BY_CPU.get(units)
    if allowed is None:
        return f"Fargate has no task size with cpu {units}: use one of {sorted(FARGATE_MEMORY_BY_CPU)}"
    if mib not in allowed:
        return (
            f"Fargate refuses cpu {units} with memory {mib} MiB: "
            f"it allows {min(allowed)}-{max(allowed)} MiB in steps of {_step(allowed)} MiB"
        )
    return None


def _step(allowed: frozenset[int]) -> int:
    ordered = sorted(allowed)
    return min(b - a for a, b in pairwise(ordered)) if len(ordered) > 1 else 0


def task_definition_problems(task_definition: Mapping[str, Any]) -> list[str]:
    """Everything in the task definition that ECS will refuse, or that stops its tasks before they run."""
    definition = unwrap(task_definition)
    problems = [
        f"{where} has an unresolved placeholder {', '.join(tokens)}: {value}"
        for where, value in _fields(definition)
        if (tokens := placeholders_in(value))
    ]
    defined = containers(definition)
    if not defined:
        problems.append("the task definition has no containers")
    elif not any(c.get("essential", True) for c in defined):
        problems.append("no container is essential: ECS needs at least one essential container")
    problems.extend(_execution_role_problems(definition))
    if is_fargate(definition):
        size = fargate_size_problem(definition.get("cpu"), definition.get("memory"))
        if size:
            problems.append(size)
        if definition.get("networkMode") not in (None, "awsvpc"):
            problems.append(f"Fargate needs networkMode awsvpc, not {definition.get('networkMode')}")
    problems.extend(_container_memory_problems(definition))
    return problems


def _execution_role_problems(definition: Mapping[str, Any]) -> list[str]:
    if definition.get("executionRoleArn"):
        return []
    fargate = is_fargate(definition)
    needs = []
    if secret_references(definition):
        needs.append("secrets or parameters (the execution role fetches them)")
    if fargate and awslogs_configurations(definition):
        needs.append("the awslogs log driver on Fargate")
    private = [c.get("name", "?") for c in containers(definition) if parse_ecr_image(str(c.get("image", "")))]
    if fargate and private:
        needs.append(f"pulling private ECR images on Fargate (containers {', '.join(private)})")
    return [f"no executionRoleArn, but the task uses {need}" for need in needs]


def _container_memory_problems(definition: Mapping[str, Any]) -> list[str]:
    task_mib = parse_memory_mib(definition.get("memory"))
    hard_limits = [int(c["memory"]) for c in containers(definition) if str(c.get("memory", "")).isdigit()]
    if task_mib is not None and sum(hard_limits) > task_mib:
        return [f"the containers' memory limits add up to {sum(hard_limits)} MiB, more than the task's {task_mib}"]
    return []


def lint_task_definition(task_definition: Mapping[str, Any]) -> ProbeResult:
    """The task definition lint as a probe result: `fail` with one evidence line per problem."""
    definition = unwrap(task_definition)
    resource = definition.get("taskDefinitionArn") or definition.get("family")
    problems = task_definition_problems(definition)
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        return failed(ProbeName.TASK_DEFINITION, f"task definition has {count}: {problems[0]}", problems, resource)
    return passed(ProbeName.TASK_DEFINITION, "task definition has no known problem", (), resource)
