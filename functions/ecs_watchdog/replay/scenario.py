"""Scenario files: load JSON or YAML, check them against `scenarios/schema.json`, build typed models.

Every mistake in a file is reported as one `ScenarioError` naming the file, the key and a hint, e.g.
`scenarios/x.json: services[0].deployment.circut_breaker: unknown key (did you mean 'circuit_breaker'?)`.
Nothing unknown is silently ignored: a typo in a scenario would otherwise replay a different incident.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ecs_watchdog.flow import event_source

# The repository's top-level scenarios/, reached through the link replay/scenarios -> ../../../scenarios:
# one copy of every file, which the wheel ships as this package's data (pyproject's package-data).
SCENARIO_DIR = Path(str(resources.files("ecs_watchdog.replay") / "scenarios"))
SCHEMA_PATH = SCENARIO_DIR / "schema.json"

BEHAVIOUR_KINDS = ("healthy", "fail_to_start", "crash", "unhealthy", "oom")
TIMELINE_ACTIONS = ("deploy", "break", "scale", "stop_tasks", "spot_interruption")

# Defaults for a behaviour's timings, in seconds (see schema.json for what each one measures).
DEFAULT_START_SECONDS = 30.0
DEFAULT_READY_SECONDS = 30.0
DEFAULT_HOOK_TIMEOUT_MINUTES = 1440
DEFAULT_CANARY = (5.0, 10.0)  # percent, interval minutes
DEFAULT_LINEAR = (10.0, 6.0)
DEFAULT_AFTER_SECONDS = {"fail_to_start": 40.0, "crash": 10.0, "unhealthy": 90.0, "oom": 300.0}


class ScenarioError(ValueError):
    """A scenario file that cannot be replayed; the message names the file, the key and a hint."""


@dataclass(frozen=True)
class Behaviour:
    """How one task of a revision behaves once launched."""

    kind: str
    probability: float = 1.0
    start_seconds: float = DEFAULT_START_SECONDS
    ready_seconds: float = DEFAULT_READY_SECONDS
    after_seconds: float = 0.0
    stop_code: str | None = None
    stopped_reason: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    check: str | None = None
    container: str | None = None

    @property
    def fails(self) -> bool:
        """True for every kind but `healthy`."""
        return self.kind != "healthy"


@dataclass(frozen=True)
class Container:
    """One container definition of a revision."""

    name: str
    essential: bool = True


@dataclass(frozen=True)
class Revision:
    """One task definition revision of a service."""

    revision: int
    image: str
    behaviour: Behaviour
    containers: tuple[Container, ...]
    secrets: tuple[tuple[str, str], ...] = ()
    log_group: str | None = None
    target_group: str = ""

    @property
    def essential_container(self) -> Container:
        """The first essential container (a task definition always has one)."""
        return next(c for c in self.containers if c.essential)


@dataclass(frozen=True)
class BreakerConfig:
    """deploymentCircuitBreaker: enable, rollback, thresholdConfiguration, resetOnHealthyTask."""

    enable: bool = False
    rollback: bool = False
    threshold_type: str = "BOUNDED_PERCENT"
    threshold_value: int = 50
    reset_on_healthy_task: bool = True


@dataclass(frozen=True)
class LifecycleHook:
    """A lifecycle hook at each of `stages`: PAUSE waits for ContinueServiceDeployment; AWS_LAMBDA invokes the
    hook function (the watchdog's) and goes on as its `hookStatus` says."""

    stages: tuple[str, ...]
    timeout_minutes: int = DEFAULT_HOOK_TIMEOUT_MINUTES
    timeout_action: str = "ROLLBACK"
    target_type: str = "PAUSE"  # PAUSE | AWS_LAMBDA (the API's targetType)


@dataclass(frozen=True)
class TrafficShift:
    """canaryConfiguration / linearConfiguration: shift `percent` of production traffic, wait, repeat."""

    percent: float
    interval_minutes: float


@dataclass(frozen=True)
class DeploymentConfig:
    """The service's deploymentConfiguration: rolling percents, breaker, strategy, bake time, hooks."""

    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    strategy: str = "ROLLING"
    bake_time_minutes: float = 0.0
    traffic_shift: TrafficShift | None = None  # CANARY and LINEAR only
    lifecycle_hooks: tuple[LifecycleHook, ...] = ()


@dataclass(frozen=True)
class ServiceSpec:
    """One ECS service as the scenario defines it."""

    name: str
    desired_count: int
    launch_type: str
    capacity_provider: str | None
    deployment: DeploymentConfig
    tags: tuple[tuple[str, str], ...]
    revisions: tuple[Revision, ...]
    running_revision: int | None

    def revision(self, number: int) -> Revision:
        """The revision with this number (validated to exist on load)."""
        return next(r for r in self.revisions if r.revision == number)


@dataclass(frozen=True)
class Deploy:
    service: str
    revision: int


@dataclass(frozen=True)
class Break:
    service: str
    behaviour: Behaviour
    revision: int | None = None


@dataclass(frozen=True)
class Scale:
    service: str
    desired_count: int


@dataclass(frozen=True)
class StopTasks:
    service: str
    tasks: int
    reason: str = "Task stopped by user"


@dataclass(frozen=True)
class SpotInterruption:
    service: str
    tasks: int


TimelineAction = Deploy | Break | Scale | StopTasks | SpotInterruption


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happens at a simulated minute."""

    at_minute: float
    action: TimelineAction


@dataclass(frozen=True)
class Expectation:
    """What the watchdog should conclude for one service."""

    category: str | None = None
    incident: bool = True


@dataclass(frozen=True)
class Environment:
    """Account resources created in moto before the replay."""

    ecr_images: tuple[str, ...] = ()
    secrets: tuple[tuple[str, str], ...] = ()
    log_groups: tuple[str, ...] = ()
    target_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """How an EventBridge event reaches the events function: EventBridge puts it on the SQS queue after
    `eventbridge_to_sqs_seconds`; the SQS event source invokes the function with a batch once
    `batching_window_seconds` have passed since the batch's first record arrived, or at once when it holds
    `batch_size` records (the context keys `watchdog:batching_window_seconds` and `watchdog:batch_size`).
    The defaults are the deployed stack's (`flow/event_source.py`: no window, 10 records), and no delay:
    EventBridge's own seconds are not modelled unless a scenario or `--delivery-delay` names them."""

    eventbridge_to_sqs_seconds: float = 0.0
    batching_window_seconds: float = event_source.BATCHING_WINDOW_SECONDS
    batch_size: int = event_source.BATCH_SIZE


@dataclass(frozen=True)
class Scenario:
    """A validated scenario, copies expanded, every default filled in."""

    name: str
    description: str
    seed: int
    region: str
    cluster: str
    start_time: datetime
    horizon_minutes: float
    environment: Environment
    services: tuple[ServiceSpec, ...]
    timeline: tuple[TimelineEntry, ...]
    expect: Mapping[str, Expectation]
    source: str = ""
    delivery: Delivery = field(default_factory=Delivery)

    def service(self, name: str) -> ServiceSpec:
        """The service with this name."""
        return next(s for s in self.services if s.name == name)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file (.json, .yaml or .yml), validate it and return the typed scenario."""
    label = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ScenarioError(f"{label}: cannot read the file ({exc.strerror})") from exc
    if Path(path).suffix in (".yaml", ".yml"):
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{label}: not valid YAML ({exc})") from exc
    else:
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{label}: not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from exc
    return parse_scenario(document, label)


def parse_scenario(document: Any, label: str = "<scenario>") -> Scenario:
    """Validate an already-parsed document against the schema and the cross-references, then build it."""
    errors = sorted(_validator().iter_errors(document), key=_error_rank)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ScenarioError(f"{label}: {_describe(errors[0], document)}{more}")
    scenario = _build(document, label)
    _check_references(document, scenario, label)
    return scenario


def _error_rank(error: jsonschema.ValidationError) -> tuple[int, int, str]:
    # Unknown keys first (the typo is the likeliest cause of everything else), then the shallowest.
    unknown = error.validator == "additionalProperties" or "propertyNames" in error.schema_path
    return (0 if unknown else 1, len(error.absolute_path), _format_path(error.absolute_path))


def _format_path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _at(path: Iterable[str | int], key: str | None = None) -> str:
    parts = list(path) + ([key] if key is not None else [])
    return _format_path(parts) or "(top level)"


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "allowed: " + ", ".join(sorted(choices))


def _lookup(document: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        document = document[part]
    return document


def _describe(error: jsonschema.ValidationError, document: Any) -> str:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        key = unknown[0] if unknown else "?"
        if not allowed:
            return f"{_at(path, key)}: unknown key"
        return f"{_at(path, key)}: unknown key ({_suggest(key, allowed)})"
    if "propertyNames" in error.schema_path:
        allowed = list(error.schema.get("enum", []))
        kind = _lookup(document, path).get("kind")
        return (
            f"{_at(path, str(error.instance))}: not used by behaviour kind '{kind}' "
            f"({_suggest(str(error.instance), allowed)})"
        )
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"{_at(path, missing)}: missing required key"
    if error.validator == "enum":
        choices = [str(c) for c in error.validator_value]
        return f"{_at(path)}: {error.instance!r} is not allowed ({_suggest(str(error.instance), choices)})"
    if error.validator in ("minProperties", "maxProperties") and len(path) == 2 and path[0] == "timeline":
        return f"{_at(path)}: needs at_minute and exactly one action ({', '.join(TIMELINE_ACTIONS)})"
    if error.validator == "minProperties" and path and path[0] == "expect":
        return f'{_at(path)}: say either {{"category": ...}} or {{"incident": false}}'
    if error.validator == "type":
        return f"{_at(path)}: expected {error.validator_value}, got {json.dumps(error.instance)}"
    if error.validator == "format":
        return f"{_at(path)}: {error.instance!r} is not a {error.validator_value} (e.g. 2025-01-01T00:00:00Z)"
    if error.validator == "pattern":
        hint = error.schema.get("description", f"must match {error.validator_value}")
        return f"{_at(path)}: {error.instance!r} is malformed ({hint})"
    return f"{_at(path)}: {error.message}"


def _behaviour(raw: Mapping[str, Any]) -> Behaviour:
    kind = raw["kind"]
    return Behaviour(
        kind=kind,
        probability=float(raw.get("probability", 1.0)),
        start_seconds=float(raw.get("start_seconds", DEFAULT_START_SECONDS)),
        ready_seconds=float(raw.get("ready_seconds", DEFAULT_READY_SECONDS)),
        after_seconds=float(raw.get("after_seconds", DEFAULT_AFTER_SECONDS.get(kind, 0.0))),
        stop_code=raw.get("stop_code"),
        stopped_reason=raw.get("stopped_reason"),
        exit_code=raw.get("exit_code", 1 if kind == "crash" else None),
        reason=raw.get("reason"),
        check=raw.get("check"),
        container=raw.get("container"),
    )


def _revision(raw: Mapping[str, Any], service_name: str) -> Revision:
    containers = tuple(
        Container(name=c["name"], essential=c.get("essential", True)) for c in raw.get("containers", ())
    ) or (Container(name=service_name),)
    return Revision(
        revision=raw["revision"],
        image=raw["image"],
        behaviour=_behaviour(raw["behaviour"]),
        containers=containers,
        secrets=tuple(sorted(raw.get("secrets", {}).items())),
        log_group=raw.get("log_group"),
        target_group=raw.get("target_group", service_name[:32]),
    )


def _deployment(raw: Mapping[str, Any]) -> DeploymentConfig:
    threshold = raw.get("breaker_threshold", {"type": "BOUNDED_PERCENT", "value": 50})
    strategy = raw.get("strategy", "ROLLING")
    return DeploymentConfig(
        minimum_healthy_percent=raw.get("minimum_healthy_percent", 100),
        maximum_percent=raw.get("maximum_percent", 200),
        breaker=BreakerConfig(
            enable=raw.get("circuit_breaker", False),
            rollback=raw.get("rollback", False),
            threshold_type=threshold["type"],
            threshold_value=threshold["value"],
            reset_on_healthy_task=raw.get("reset_on_healthy_task", True),
        ),
        strategy=strategy,
        bake_time_minutes=float(raw.get("bake_time_minutes", 0)),
        traffic_shift=_traffic_shift(strategy, raw),
        lifecycle_hooks=tuple(
            LifecycleHook(
                stages=tuple(h["stages"]),
                timeout_minutes=h.get("timeout_minutes", DEFAULT_HOOK_TIMEOUT_MINUTES),
                timeout_action=h.get("timeout_action", "ROLLBACK"),
                target_type=h.get("type", "PAUSE"),
            )
            for h in raw.get("lifecycle_hooks", ())
        ),
    )


def _traffic_shift(strategy: str, raw: Mapping[str, Any]) -> TrafficShift | None:
    if strategy not in ("CANARY", "LINEAR"):
        return None
    key = strategy.lower()
    percent, interval = DEFAULT_CANARY if strategy == "CANARY" else DEFAULT_LINEAR
    body = raw.get(key, {})
    return TrafficShift(
        percent=float(body.get("percent", percent)), interval_minutes=float(body.get("interval_minutes", interval))
    )


def _copy_names(raw_services: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    names: dict[str, list[str]] = {}
    for raw in raw_services:
        copies = raw.get("copies", 1)
        name = raw["name"]
        names[name] = [name] if copies == 1 else [f"{name}-{i:02d}" for i in range(1, copies + 1)]
    return names


def _build(document: Mapping[str, Any], label: str) -> Scenario:
    copies = _copy_names(document["services"])
    services: list[ServiceSpec] = []
    for raw in document["services"]:
        for name in copies[raw["name"]]:
            services.append(
                ServiceSpec(
                    name=name,
                    desired_count=raw["desired_count"],
                    launch_type=raw.get("launch_type", "FARGATE"),
                    capacity_provider=raw.get("capacity_provider"),
                    deployment=_deployment(raw.get("deployment", {})),
                    tags=tuple(sorted(raw.get("tags", {}).items())),
                    revisions=tuple(_revision(r, name) for r in raw["revisions"]),
                    running_revision=raw["running_revision"],
                )
            )
    timeline: list[TimelineEntry] = []
    for raw_entry in document["timeline"]:
        action_name = next(k for k in raw_entry if k != "at_minute")
        body = raw_entry[action_name]
        for name in copies.get(body["service"], [body["service"]]):
            timeline.append(
                TimelineEntry(at_minute=float(raw_entry["at_minute"]), action=_action(action_name, body, name))
            )
    expect: dict[str, Expectation] = {}
    for key, raw_expectation in document["expect"].items():
        for name in copies.get(key, [key]):
            expect[name] = Expectation(
                category=raw_expectation.get("category"), incident=raw_expectation.get("incident", True)
            )
    environment = document.get("environment", {})
    delivery = document.get("delivery", {})
    start = datetime.fromisoformat(document.get("start_time", "2025-01-01T00:00:00Z").replace("Z", "+00:00"))
    return Scenario(
        name=document["name"],
        description=document.get("description", ""),
        seed=document["seed"],
        region=document.get("region", "us-east-1"),
        cluster=document.get("cluster", "default"),
        start_time=start.astimezone(UTC),
        horizon_minutes=float(document["horizon_minutes"]),
        environment=Environment(
            ecr_images=tuple(environment.get("ecr_images", ())),
            secrets=tuple(sorted(environment.get("secrets", {}).items())),
            log_groups=tuple(environment.get("log_groups", ())),
            target_groups=tuple(environment.get("target_groups", ())),
        ),
        services=tuple(services),
        # A stable sort keeps same-minute entries in file order.
        timeline=tuple(sorted(timeline, key=lambda e: e.at_minute)),
        expect=expect,
        source=label,
        delivery=Delivery(
            eventbridge_to_sqs_seconds=float(
                delivery.get("eventbridge_to_sqs_seconds", Delivery.eventbridge_to_sqs_seconds)
            ),
            batching_window_seconds=float(delivery.get("batching_window_seconds", Delivery.batching_window_seconds)),
            batch_size=int(delivery.get("batch_size", Delivery.batch_size)),
        ),
    )


def _action(name: str, body: Mapping[str, Any], service: str) -> TimelineAction:
    if name == "deploy":
        return Deploy(service=service, revision=body["revision"])
    if name == "break":
        return Break(service=service, behaviour=_behaviour(body["behaviour"]), revision=body.get("revision"))
    if name == "scale":
        return Scale(service=service, desired_count=body["desired_count"])
    if name == "stop_tasks":
        return StopTasks(service=service, tasks=body["tasks"], reason=body.get("reason", "Task stopped by user"))
    return SpotInterruption(service=service, tasks=body["tasks"])


def _check_references(document: Mapping[str, Any], scenario: Scenario, label: str) -> None:
    """The checks JSON Schema cannot express: names and revisions that must exist."""

    def fail(path: list[str | int], message: str) -> None:
        raise ScenarioError(f"{label}: {_at(path)}: {message}")

    names = [s["name"] for s in document["services"]]
    expanded = [s.name for s in scenario.services]
    duplicates = sorted({n for n in expanded if expanded.count(n) > 1})
    if duplicates:
        fail(["services"], f"service name '{duplicates[0]}' is used twice (copies are named <name>-NN)")
    for i, raw in enumerate(document["services"]):
        numbers = [r["revision"] for r in raw["revisions"]]
        if len(set(numbers)) != len(numbers):
            fail(["services", i, "revisions"], "a revision number is listed twice")
        if raw["running_revision"] is not None and raw["running_revision"] not in numbers:
            fail(
                ["services", i, "running_revision"],
                f"revision {raw['running_revision']} is not in revisions ({_numbers(numbers)}); "
                "use null for a brand-new service",
            )
        for j, revision in enumerate(raw["revisions"]):
            containers = [c["name"] for c in revision.get("containers", [{"name": raw["name"]}])]
            if not any(c.get("essential", True) for c in revision.get("containers", [{}])):
                fail(["services", i, "revisions", j, "containers"], "at least one container must be essential")
            chosen = revision["behaviour"].get("container")
            if chosen is not None and chosen not in containers:
                fail(
                    ["services", i, "revisions", j, "behaviour", "container"],
                    f"no container '{chosen}' in this revision ({_suggest(chosen, containers)})",
                )
        deployment = raw.get("deployment", {})
        strategy = deployment.get("strategy", "ROLLING")
        if deployment.get("lifecycle_hooks") and strategy == "ROLLING":
            fail(
                ["services", i, "deployment", "lifecycle_hooks"],
                "lifecycle hooks need strategy BLUE_GREEN, LINEAR or CANARY (the model's rolling update has no stages)",
            )
        for key in ("canary", "linear"):
            if key in deployment and strategy != key.upper():
                fail(
                    ["services", i, "deployment", key],
                    f"only used with strategy {key.upper()} (strategy is {strategy})",
                )
    by_name = {raw["name"]: raw for raw in document["services"]}
    for i, raw_entry in enumerate(document["timeline"]):
        action = next(k for k in raw_entry if k != "at_minute")
        body = raw_entry[action]
        if body["service"] not in by_name:
            fail(
                ["timeline", i, action, "service"],
                f"no service '{body['service']}' ({_suggest(body['service'], names)})",
            )
        if raw_entry["at_minute"] > document["horizon_minutes"]:
            fail(
                ["timeline", i, "at_minute"],
                f"{raw_entry['at_minute']} is after horizon_minutes {document['horizon_minutes']} "
                "(it would never happen)",
            )
        numbers = [r["revision"] for r in by_name[body["service"]]["revisions"]]
        revision = body.get("revision")
        if action in ("deploy", "break") and revision is not None and revision not in numbers:
            fail(
                ["timeline", i, action, "revision"],
                f"service '{body['service']}' has no revision {revision} ({_numbers(numbers)})",
            )
    for key in document["expect"]:
        if key not in by_name:
            fail(["expect", key], f"no service '{key}' ({_suggest(key, names)})")


def _numbers(numbers: Sequence[int]) -> str:
    return "has " + ", ".join(str(n) for n in numbers)
