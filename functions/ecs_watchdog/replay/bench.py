"""`ecs-watchdog bench`: the numbers behind the README, measured with the real handler on moto.

Per event kind: handler time (median, p99) and AWS calls, DynamoDB reads and writes per event (a
botocore `before-call` hook on the replay's session); cold start of each handler module in a fresh
interpreter; the Lambda package size; the 10,000-stop storm; containment per seed for each policy;
and a monthly cost estimate (replay/cost.py). Timings are local (x86_64 here, not Lambda's arm64).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import pkgutil
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from ecs_watchdog.classify import failure_category
from ecs_watchdog.flow import event_source
from ecs_watchdog.replay.cost import Assumptions, monthly_cost, read_units, write_units
from ecs_watchdog.replay.progress import Progress
from ecs_watchdog.replay.runner import POLICIES, run_scenario
from ecs_watchdog.replay.scenario import SCENARIO_DIR, Scenario, load_scenario
from ecs_watchdog.replay.watchdog_adapter import ReplayWatchdog

ROOT = Path(__file__).resolve().parents[3]  # a clone's root, where infra/ is (package_size)
STORM = "storm-20-services.json"
DYNAMODB_READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
BREAKER_TUNED = "circuit-breaker-best"  # the breaker at its best tuning; "n/a" where the replay lacks it
COUNT_1 = "circuit-breaker-count-1"  # the breaker at COUNT 1: fewest failed tasks, rolls good deployments back
# The calls that contain a service (contain/decision.py): the first one made ends "event to action".
CONTAINMENT_CALLS = ("ecs.StopServiceDeployment", "ecs.UpdateService")
WRITE_UNITS, READ_UNITS = "dynamodb.~WriteUnits", "dynamodb.~ReadUnits"  # capacity units, not calls
LABEL = "local x86_64 timings on moto, not Lambda arm64"
# What `run` measures, in order (its `measures`): the steps its progress shows on a terminal.
PHASES = ("per-event cost", "storm", "containment per seed", "cold starts", "package size")


def _quiet() -> Progress:
    return Progress(len(PHASES), "bench", None)


@dataclasses.dataclass
class CallCounter:
    """AWS calls made while `active`, by service and operation (a botocore before-call hook), and the
    DynamoDB capacity units they consume (cost.py: write units by the request's size, read units by the
    answer's), counted as pseudo-operations `dynamodb.~WriteUnits` / `dynamodb.~ReadUnits`."""

    active: bool = False
    calls: Counter[str] = dataclasses.field(default_factory=Counter)

    def hook(self, event_name: str, params: dict[str, Any] | None = None, **_: Any) -> None:
        if not self.active:  # before-call.<service>.<Operation>
            return
        operation = ".".join(event_name.split(".")[1:3])
        self.calls[operation] += 1
        if operation.startswith("dynamodb.") and operation.split(".")[1] in DYNAMODB_WRITES and params:
            body = params.get("body") or b""
            transactional = operation.endswith("TransactWriteItems")
            self.calls[WRITE_UNITS] += write_units(len(body), transactional=transactional)

    def after(self, event_name: str, http_response: Any = None, **_: Any) -> None:
        if not self.active or http_response is None:  # after-call.dynamodb.<Operation>
            return
        if event_name.split(".")[2] in DYNAMODB_READS:
            self.calls[READ_UNITS] += int(read_units(len(http_response.content or b"")))  # strongly consistent: whole

    @contextlib.contextmanager
    def counting(self) -> Iterator[Counter[str]]:
        before = Counter(self.calls)
        self.active = True
        found: Counter[str] = Counter()
        try:
            yield found
        finally:
            self.active = False
            found.update(self.calls - before)


def dynamodb_ops(calls: Counter[str]) -> tuple[int, int]:
    """(reads, writes) among these calls."""
    reads = sum(n for op, n in calls.items() if op.startswith("dynamodb.") and op.split(".")[1] in DYNAMODB_READS)
    writes = sum(n for op, n in calls.items() if op.startswith("dynamodb.") and op.split(".")[1] in DYNAMODB_WRITES)
    return reads, writes


def event_kind(envelope: dict[str, Any]) -> str:
    """The benchmark's event kinds: what costs differently in the handler."""
    kind = str(envelope.get("detail-type", ""))
    if kind == "ECS Task State Change":
        return "task stopped (failure)" if failure_category(envelope) else "task stopped (benign)"
    return {"ECS Deployment State Change": "deployment", "ECS Service Action": "service action"}.get(kind, kind)


class _ByteCount(io.TextIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@dataclasses.dataclass
class Sample:
    kind: str
    seconds: float
    calls: Counter[str]
    log_bytes: int


class MeasuredWatchdog(ReplayWatchdog):
    """The replay's real watchdog, each invocation timed and its AWS calls and log bytes counted.
    With `one_by_one`, each event is its own invocation, so time and calls are per event."""

    def __init__(
        self, session: boto3.Session, clock: Callable[[], datetime], dry_run: bool, one_by_one: bool = True
    ) -> None:
        self.counter = CallCounter()
        session.events.register("before-call", self.counter.hook)  # before any client is made
        session.events.register("after-call.dynamodb", self.counter.after)
        # Event to action: from the invocation's start (the record's arrival) to each containment call. First:
        # the simulator's own before-call hook answers these calls, and no handler after it runs.
        self.started: float | None = None
        self.to_action_ms: list[tuple[float, int]] = []  # (ms, records in that invocation)
        self._records = 0
        for operation in CONTAINMENT_CALLS:
            session.events.register_first(f"before-call.{operation}", self._action_called)
        super().__init__(session, clock, dry_run)
        self.one_by_one = one_by_one
        self.samples: list[Sample] = []
        self.invocations = 0
        self.seconds = 0.0
        handler = self.invoke

        def measured(batch: dict[str, Any], context: Any) -> dict[str, Any]:
            logs = _ByteCount()
            with self.counter.counting() as calls, _logs_to(logs), contextlib.redirect_stdout(logs):
                started = self.started = time.perf_counter()
                self._records = len(batch["Records"])
                response = handler(batch, context)
                self.started = None
                elapsed = time.perf_counter() - started
            self.invocations += 1
            self.seconds += elapsed
            kind = event_kind(json.loads(batch["Records"][0]["body"])) if len(batch["Records"]) == 1 else "batch"
            self.samples.append(Sample(kind, elapsed, calls, logs.bytes))
            return response

        self.invoke = measured

    def _action_called(self, **_: Any) -> None:
        if self.started is not None:
            self.to_action_ms.append(((time.perf_counter() - self.started) * 1000, self._records))

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        if not self.one_by_one:
            super().deliver(envelopes)
            return
        for envelope in envelopes:
            super().deliver([envelope])


@contextlib.contextmanager
def _logs_to(stream: io.TextIOBase) -> Iterator[None]:
    """Point the handler's Powertools log handler at `stream` (to count the bytes Lambda would ingest)."""
    handlers = [h for h in logging.getLogger("ecs-watchdog").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(stream) for h in handlers]  # type: ignore[func-returns-value]
    try:
        yield
    finally:
        for h, old in zip(handlers, previous, strict=True):
            if old is not None:
                h.setStream(old)


def _factory(one_by_one: bool, made: list[MeasuredWatchdog]) -> Callable[..., MeasuredWatchdog]:
    def make(session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> MeasuredWatchdog:
        made.append(MeasuredWatchdog(session, clock, dry_run, one_by_one))
        return made[-1]

    return make


def _shortened(scenario: Scenario, minutes: float) -> Scenario:
    """The scenario cut to `minutes` after its first timeline entry (smoke mode)."""
    first = min((e.at_minute for e in scenario.timeline), default=0.0)
    return dataclasses.replace(scenario, horizon_minutes=min(scenario.horizon_minutes, first + minutes))


def _seeds() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("seed-*.json"))


def _quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


_TO_ACTION: list[float] = []  # per_event_kind's event-to-action times, read by event_to_action()


def event_to_action(window_seconds: float) -> dict[str, Any]:
    """From a failure record's arrival in the handler to its containment call (measured in per_event_kind,
    each event its own invocation), plus what the event source adds before the handler sees it."""
    if not _TO_ACTION:
        return {"actions": 0}
    return {
        "actions": len(_TO_ACTION),
        "handler_ms_median": round(statistics.median(_TO_ACTION), 1),
        "handler_ms_max": round(max(_TO_ACTION), 1),
        "batching_window_seconds": window_seconds,
    }


def per_event_kind(smoke: bool, shown: Progress | None = None) -> dict[str, dict[str, float]]:
    """Handler time and AWS work per event kind over the seed incidents (each event its own invocation)."""
    shown = shown or _quiet()
    samples: list[Sample] = []
    _TO_ACTION.clear()
    for path in _seeds()[:1] if smoke else _seeds():
        scenario = load_scenario(path)
        made: list[MeasuredWatchdog] = []
        shown.detail(scenario.name)
        run_scenario(_shortened(scenario, 10) if smoke else scenario, "watchdog", shown.counting(_factory(True, made)))
        samples += made[0].samples
        _TO_ACTION.extend(ms for ms, _ in made[0].to_action_ms)
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample)
    table: dict[str, dict[str, float]] = {}
    for kind, group in sorted(by_kind.items()):
        ms = [s.seconds * 1000 for s in group]
        calls = sum((s.calls for s in group), Counter())
        reads, writes = dynamodb_ops(calls)
        table[kind] = {
            "events": len(group),
            "ms": round(statistics.median(ms), 3),
            "ms_p99": round(_quantile(ms, 99), 3),
            "aws_calls": round(
                sum(n for op, n in calls.items() if op not in (WRITE_UNITS, READ_UNITS)) / len(group), 3
            ),
            "dynamodb_reads": round(reads / len(group), 3),
            "dynamodb_writes": round(writes / len(group), 3),
            # Capacity units (1 per KB written, 1 per 4 KB read strongly consistent): what on-demand bills.
            "dynamodb_write_units": round(calls[WRITE_UNITS] / len(group), 3),
            "dynamodb_read_units": round(calls[READ_UNITS] / len(group), 3),
            "log_bytes": round(sum(s.log_bytes for s in group) / len(group), 1),
        }
    return table


COLD_START_FLOOR = "ecs_watchdog.replay.cold_start_floor"  # boto3 + Powertools + one pydantic model
COLD_START = """
import importlib, json, sys, time
cpu, started = time.process_time(), time.perf_counter()
module = importlib.import_module(sys.argv[1])
imported_cpu, imported = time.process_time(), time.perf_counter()
init = getattr(module, "intake", None)
if callable(init):
    init()
done_cpu, done = time.process_time(), time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "init_ms": (done - imported) * 1000,
                  "import_cpu_ms": (imported_cpu - cpu) * 1000, "init_cpu_ms": (done_cpu - imported_cpu) * 1000,
                  "init": callable(init)}))
"""


def cold_starts(runs: int, compiled: bool = True) -> dict[str, dict[str, Any]]:
    """Import and init of each handler module in a fresh interpreter, CPU time and wall time: the median
    of `runs`, beside a bare `import boto3` measured the same way in the same run (issue 23: the events
    handler's import <= 1.5x). CPU time, because on a shared machine the wall clock measures the
    neighbours; one run of each module in turn, so a busy spell slows the yardstick too. `compiled=False`
    (the smoke run, which asserts no timing) skips the untimed first run that compiles the bytecode."""
    import tempfile

    import ecs_watchdog.handlers as handlers

    handler_modules = (m.name for m in pkgutil.iter_modules(handlers.__path__, prefix="ecs_watchdog.handlers."))
    modules = ["boto3", COLD_START_FLOOR, *handler_modules]
    with tempfile.TemporaryDirectory() as bytecode:
        env = {
            **os.environ,
            "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:ecs-watchdog-alerts",
            "STATE_TABLE_NAME": "ecs-watchdog-state",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",  # init builds clients; it calls nothing
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
            # Every module, boto3's and ours, from bytecode compiled by a first, untimed run: what is
            # measured is the import, not the compiler (or whether this checkout's .pyc were written).
            "PYTHONPYCACHEPREFIX": bytecode,
            "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as the stack tells every function (infra/functions.py)
        }
        env.pop("SLACK_SECRET_NAME", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for module in modules if compiled else ():
            _cold_start(module, env)
        results: dict[str, list[dict[str, Any]]] = {module: [] for module in modules}
        for _ in range(runs):
            for module in modules:
                results[module].append(_cold_start(module, env))
    bare_cpu = statistics.median(r["import_cpu_ms"] for r in results["boto3"])
    found: dict[str, dict[str, Any]] = {}
    for module, rows in results.items():
        import_cpu = statistics.median(r["import_cpu_ms"] for r in rows)
        cold_cpu = statistics.median(r["import_cpu_ms"] + r["init_cpu_ms"] for r in rows)
        row: dict[str, Any] = {
            "runs": runs,
            "import_ms": round(statistics.median(r["import_ms"] for r in rows), 1),
            "init_ms": round(statistics.median(r["init_ms"] for r in rows), 1),
            "import_cpu_ms": round(import_cpu, 1),
            "init_cpu_ms": round(statistics.median(r["init_cpu_ms"] for r in rows), 1),
            "init": "bare" if module == "boto3" else "intake() built" if rows[0]["init"] else "import only (no intake)",
        }
        if module != "boto3" and bare_cpu:
            row["over_boto3"] = round(import_cpu / bare_cpu, 2)  # the import's CPU time over boto3's
            row["cold_over_boto3"] = round(cold_cpu / bare_cpu, 2)  # import and init
        found[module] = row
    return found


def _cold_start(module: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", COLD_START, module], env=env, capture_output=True, text=True, check=True
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def package_size() -> dict[str, Any]:
    """The Lambda package's size, assembled from the bundling cache when it is built (`make synth`)."""
    # infra/ sits beside functions/ at the repository's root, which the console script's path lacks.
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    try:
        from infra import bundling
    except ImportError as error:
        return {"note": f"infra/ not importable from {ROOT}: {error}"}
    # The cache is one folder per requirements key (bundling.dependencies_dir), marked complete inside it.
    if bundling.cached_dependencies() is None:
        return {"note": f"not built: {bundling.CACHE_DIR} holds no dependencies yet (run `make synth` first)"}
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "package"
        bundling.assemble(out, check_imports=False)
        unzipped = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        archive = shutil.make_archive(str(Path(tmp) / "package"), "zip", out)
        return {"unzipped_mb": round(unzipped / 1e6, 2), "zipped_mb": round(Path(archive).stat().st_size / 1e6, 2)}


def storm(smoke: bool, shown: Progress | None = None) -> dict[str, Any]:
    """The storm scenario under the real watchdog (SQS batches of 10): rate, messages, DynamoDB operations."""
    shown = shown or _quiet()
    scenario = load_scenario(SCENARIO_DIR / STORM)
    if smoke:
        scenario = _shortened(scenario, 2)
    made: list[MeasuredWatchdog] = []
    shown.detail(scenario.name)
    started = time.perf_counter()
    result = run_scenario(scenario, "watchdog", shown.counting(_factory(False, made)))
    elapsed = time.perf_counter() - started
    watchdog = made[0]
    calls = sum((s.calls for s in watchdog.samples), Counter())
    reads, writes = dynamodb_ops(calls)
    events = result["events"]["total"]
    channels = Counter(n["channel"] for n in result["notifications"])
    return {
        "scenario": scenario.name,
        "horizon_minutes": scenario.horizon_minutes,
        "events": events,
        "failed_tasks": sum(s["failed_tasks_total"] for s in result["services"].values()),
        "seconds": round(elapsed, 2),
        "events_per_second": round(events / elapsed, 1),
        "handler_events_per_second": round(events / watchdog.seconds, 1) if watchdog.seconds else None,
        "messages": dict(channels),
        "dynamodb_reads": reads,
        "dynamodb_writes": writes,
        "aws_calls": sum(n for op, n in calls.items() if op not in (WRITE_UNITS, READ_UNITS)),
    }


def containment(smoke: bool, shown: Progress | None = None) -> dict[str, dict[str, Any]]:
    """Failed tasks per seed under each policy, and the breaker's over the watchdog's (how many times fewer)."""
    shown = shown or _quiet()
    table: dict[str, dict[str, Any]] = {}
    for path in _seeds()[:1] if smoke else _seeds():
        scenario = load_scenario(path)
        if smoke:
            scenario = _shortened(scenario, 10)
        row: dict[str, Any] = {}
        for policy in ("watchdog", "circuit-breaker", BREAKER_TUNED, COUNT_1, "none"):
            if policy not in POLICIES:
                row[policy] = "n/a"
                continue
            shown.detail(f"{scenario.name} under {policy}")
            result = run_scenario(scenario, policy, shown.counting(_factory(False, [])))
            row[policy] = sum(s["failed_tasks_total"] for s in result["services"].values())
        watchdog, breaker = row["watchdog"], row["circuit-breaker"]
        row["breaker_over_watchdog"] = round(breaker / watchdog, 2) if isinstance(watchdog, int) and watchdog else None
        table[scenario.name] = row
    return table


def run(smoke: bool = False, shown: Progress | None = None) -> dict[str, Any]:
    """Every measurement, as one JSON-ready dict; each of PHASES a step of `shown` (drawn or not)."""
    shown = shown or _quiet()
    measures: dict[str, Callable[[], Any]] = {
        "per-event cost": lambda: per_event_kind(smoke, shown),
        "storm": lambda: storm(smoke, shown),
        "containment per seed": lambda: containment(smoke, shown),
        # One fresh interpreter per run: smoke measures once, the benchmark takes the median of 10.
        "cold starts": lambda: cold_starts(1, compiled=False) if smoke else cold_starts(10),
        "package size": package_size,
    }
    measured: dict[str, Any] = {}
    for name, measure in measures.items():
        shown.start(name)
        measured[name] = measure()
        shown.finish()
    events, storm_result, seeds = measured["per-event cost"], measured["storm"], measured["containment per seed"]
    messages = sum(storm_result["messages"].values())
    per_event = {k: v for k, v in events.items() if k != "batch"}
    # One incident per service per month, with the storm's messages per failing service and channel.
    messages_per_incident = max(1.0, messages / 20 / max(1, len(storm_result["messages"])))
    return {
        "label": LABEL,
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "smoke": smoke,
        "per_event_kind": events,
        "event_to_action": event_to_action(event_source.BATCHING_WINDOW_SECONDS),
        "cold_start": measured["cold starts"],
        "package": measured["package size"],
        "storm": storm_result,
        "containment_failed_tasks": seeds,
        "monthly_cost": monthly_cost(per_event, 100 * messages_per_incident, Assumptions()),
    }


def table(report: dict[str, Any]) -> str:
    """The report as plain-text tables."""
    out = [f"ecs-watchdog bench ({report['label']}; {report['machine']})", ""]
    out.append(
        f"{'event kind':<24}{'events':>7}{'median ms':>11}{'p99 ms':>9}{'AWS calls':>11}{'DDB r':>7}{'DDB w':>7}"
    )
    for kind, row in report["per_event_kind"].items():
        out.append(
            f"{kind:<24}{row['events']:>7}{row['ms']:>11.2f}{row['ms_p99']:>9.2f}{row['aws_calls']:>11.2f}"
            f"{row['dynamodb_reads']:>7.2f}{row['dynamodb_writes']:>7.2f}"
        )
    latency = report.get("event_to_action") or {}
    if latency.get("actions"):
        out.append(
            f"\nevent to action: {latency['handler_ms_median']} ms median, {latency['handler_ms_max']} ms max in the "
            f"handler ({latency['actions']} containment calls), after at most {latency['batching_window_seconds']} s "
            "of batching window (watchdog:batching_window_seconds)"
        )
    out.append("")
    for module, row in report["cold_start"].items():
        ratio = ""
        if row.get("over_boto3"):
            ratio = f"; {row['over_boto3']}x a bare import boto3, {row['cold_over_boto3']}x with init"
        out.append(
            f"cold start {module}: import {row['import_cpu_ms']} ms + init {row['init_cpu_ms']} ms CPU "
            f"({row['import_ms']} + {row['init_ms']} ms wall; {row['init']}; median of {row['runs']}{ratio})"
        )
    package = report["package"]
    out.append(
        "package: "
        + (
            package["note"]
            if "note" in package
            else f"{package['zipped_mb']} MB zipped, {package['unzipped_mb']} MB unzipped"
        )
    )
    s = report["storm"]
    out += [
        "",
        f"storm {s['scenario']} ({s['horizon_minutes']:g} min): {s['events']} events, "
        f"{s['failed_tasks']} failed tasks, "
        f"{s['events_per_second']} events/s end to end ({s['handler_events_per_second']} in the handler), "
        f"messages {s['messages']}, DynamoDB {s['dynamodb_reads']} reads / {s['dynamodb_writes']} writes",
        "",
        f"{'failed tasks per seed':<46}{'watchdog':>9}{'breaker':>9}{'best':>7}{'count1':>7}{'none':>7}{'ratio':>7}",
    ]
    for name, row in report["containment_failed_tasks"].items():
        out.append(
            f"{name:<46}{row['watchdog']!s:>9}{row['circuit-breaker']!s:>9}{row[BREAKER_TUNED]!s:>7}"
            f"{row.get(COUNT_1, 'n/a')!s:>7}{row['none']!s:>7}{row['breaker_over_watchdog']!s:>7}"
        )
    cost = report["monthly_cost"]
    out += [
        "",
        f"monthly cost, {cost['assumptions']['services']} services (prices {cost['prices_as_of']}, "
        f"{cost['region']}): ${cost['usd_per_month_total']}",
    ]
    out += [f"  {k:<20}${v}" for k, v in cost["usd_per_month"].items()]
    return "\n".join(out)
