#!/usr/bin/env python3
"""Render docs/dashboard.png: the synthesized dashboard, drawn with matplotlib from a replay's metrics.

    scripts/run.sh python scripts/render_dashboard.py [--out docs/dashboard.png] [SCENARIO ...]

1. Synthesizes the stack (bundling skipped) and reads the dashboard's DashboardBody: the widgets, their
   places on the 24-column grid, their metrics, SEARCH expressions and Logs Insights queries.
2. Replays the scenarios (default: three seed incidents and a benign deployment) through the real
   Lambda handler on moto and keeps what the function would write to its log stream: the EMF lines
   and the structured log lines, each stamped with the simulated time of its invocation. The scenarios
   share one clock (each starts at minute 0), as if they happened in one account at once.
3. Draws each widget from that data: metrics summed per 5 simulated minutes, SEARCH expressions as one
   series per dimension set, Logs Insights queries evaluated over the log lines. AWS-side metrics
   a replay cannot produce (SQS, throttles, concurrency) are drawn empty and say so; Lambda duration is
   the local (x86) handler time.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import sys
import textwrap
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DEFAULT_SCENARIOS = [
    ROOT / "scenarios" / name
    for name in (
        "seed-000-webhook-crash-loop.json",
        "seed-002-ava-olo-stuck-deployments.json",
        "seed-004-clarity-alb-health-checks.json",
        "benign-normal-deploy.json",
    )
]
BUCKET_MINUTES = 5
# What the picture is drawn from, besides the handler's behaviour: the dashboard's definition, the metric
# catalog, this script and the scenarios. Their digest is stored in the PNG (a tEXt chunk), and
# tests/unit/test_render_dashboard.py fails when the checked-in picture was drawn from other inputs.
DRAWN_FROM = [
    ROOT / "infra" / "dashboard.py",
    ROOT / "functions" / "ecs_watchdog" / "metrics" / "catalog.py",
    Path(__file__).resolve(),
]
DIGEST_KEY = "ecs-watchdog inputs"


def inputs_digest(scenarios: list[Path]) -> str:
    """sha256 over the names and bytes of what the picture is drawn from (line endings normalised)."""
    import hashlib

    digest = hashlib.sha256()
    for path in [*DRAWN_FROM, *scenarios]:
        digest.update(path.resolve().relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()


@dataclass
class Capture:
    """What the function wrote during the replays, by simulated minute."""

    emf: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    logs: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    invocations: list[tuple[float, float, bool]] = field(default_factory=list)  # minute, ms, raised
    dead_lettered: int = 0
    horizon: float = 0.0


def replay(paths: list[Path]) -> Capture:
    """Run each scenario under the real watchdog, keeping its EMF and log lines with simulated minutes."""
    from ecs_watchdog.replay.scenario import load_scenario

    capture = Capture()
    for path in paths:
        scenario = load_scenario(path)
        capture.horizon = max(capture.horizon, scenario.horizon_minutes)
        _replay_one(scenario, capture)
    return capture


def _replay_one(scenario: Any, capture: Capture) -> None:
    import time

    from ecs_watchdog.replay.runner import run_scenario
    from ecs_watchdog.replay.watchdog_adapter import ReplayWatchdog

    made: list[ReplayWatchdog] = []

    def factory(session: Any, clock: Callable[[], datetime], dry_run: bool) -> ReplayWatchdog:
        watchdog = ReplayWatchdog(session, clock, dry_run)
        handler = watchdog.invoke

        def invoke(batch: dict[str, Any], context: Any) -> dict[str, Any]:
            minute = (clock() - scenario.start_time).total_seconds() / 60
            out, logs = io.StringIO(), io.StringIO()
            started, raised = time.perf_counter(), False
            with contextlib.redirect_stdout(out), _logs_to(logs):
                try:
                    return handler(batch, context)
                except Exception:
                    raised = True
                    raise
                finally:
                    ms = (time.perf_counter() - started) * 1000
                    capture.invocations.append((minute, ms, raised))
                    _keep(capture, minute, out.getvalue(), logs.getvalue())

        watchdog.invoke = invoke
        made.append(watchdog)
        return watchdog

    run_scenario(scenario, "watchdog", factory)
    capture.dead_lettered += len(made[0].dead_lettered)


def _keep(capture: Capture, minute: float, stdout: str, logs: str) -> None:
    for line in (stdout + logs).splitlines():
        if not line.startswith("{"):
            continue
        doc = json.loads(line)
        (capture.emf if "_aws" in doc else capture.logs).append((minute, doc))


@contextlib.contextmanager
def _logs_to(stream: io.StringIO) -> Iterator[None]:
    handlers = [h for h in logging.getLogger("ecs-watchdog").handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(stream) for h in handlers]
    try:
        yield
    finally:
        for h, old in zip(handlers, previous, strict=True):
            if old is not None:
                h.setStream(old)


def dashboard() -> dict[str, Any]:
    """The synthesized DashboardBody (references written <LogicalId>)."""
    import aws_cdk as cdk

    from app import build_app
    from infra.dashboard import dashboard_body

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    context.update({"watchdog:alert_emails": ["oncall@example.com"], "aws:cdk:bundling-stacks": []})
    node = ROOT / "node_modules" / "node" / "bin"
    os.environ["PATH"] = f"{node}{os.pathsep}{os.environ['PATH']}"
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    app = cdk.App(context=context, outdir=str(ROOT / "cdk.out" / "render"))
    stack = build_app(app)
    return dashboard_body(app.synth().get_stack_by_name(stack.stack_name).template)


# -- data for each widget --------------------------------------------------------------------------
Series = dict[str, dict[int, float]]  # label → bucket → value


def emf_series(capture: Capture, name: str, dimensions: dict[str, str] | None) -> Series:
    """EMF values of `name` per bucket: one series per dimension set (a SEARCH), or the one matching
    exactly `dimensions` (an explicit metric)."""
    found: Series = defaultdict(lambda: defaultdict(float))
    for minute, doc in capture.emf:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        if name not in {m["Name"] for m in directive["Metrics"]}:
            continue
        dims = {d: str(doc[d]) for d in directive["Dimensions"][0]}
        if dimensions is not None and {k: v for k, v in dims.items() if k != "function_name"} != dimensions:
            continue
        label = name if dimensions is not None else " ".join(v for k, v in sorted(dims.items()) if k != "service")
        values = doc[name] if isinstance(doc[name], list) else [doc[name]]
        found[label][int(minute // BUCKET_MINUTES)] += sum(values)
    return found


def lambda_series(capture: Capture, metric: str, stat: str) -> Series | None:
    buckets: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for minute, ms, raised in capture.invocations:
        buckets[int(minute // BUCKET_MINUTES)].append((ms, raised))
    if metric == "Invocations":
        return {"Invocations": {b: len(v) for b, v in buckets.items()}}
    if metric == "Errors":
        return {"Errors": {b: sum(r for _, r in v) for b, v in buckets.items()}}
    if metric == "Duration":
        q = 0.5 if stat == "p50" else 0.99 if stat == "p99" else 1.0
        return {
            f"Duration {stat} (local x86)": {
                b: sorted(ms for ms, _ in v)[int(q * (len(v) - 1))] for b, v in buckets.items()
            }
        }
    return None  # throttles, concurrency: the replay has no Lambda service to produce them


def metric_widget_series(capture: Capture, properties: dict[str, Any]) -> tuple[Series, list[str]]:
    series: Series = {}
    missing: list[str] = []
    for entry in properties.get("metrics", []):
        options = entry[-1] if isinstance(entry[-1], dict) else {}
        if "expression" in options:
            name = re.search(r'MetricName="(\w+)"', options["expression"])
            series.update(emf_series(capture, name.group(1), None) if name else {})
            continue
        namespace, name, *rest = [e for e in entry if not isinstance(e, dict)]
        if namespace == "EcsWatchdog":
            dims = dict(zip(rest[::2], rest[1::2], strict=True))
            dims.pop("function_name", None)
            series.update(emf_series(capture, name, dims))
        elif namespace == "AWS/Lambda" and (found := lambda_series(capture, name, options.get("stat", "Sum"))):
            series.update(found)
        else:
            missing.append(f"{namespace} {name}")
    return series, missing


def logs_insights(query: str, logs: list[tuple[float, dict[str, Any]]], start: datetime) -> list[dict[str, Any]]:
    """The subset of Logs Insights the dashboard uses: filter (= and `and`), fields, stats count(*) by,
    sort, limit. Refuses anything else, so the rendering cannot quietly differ from the query."""
    rows = [{**doc, "@timestamp": f"+{minute:05.1f} min"} for minute, doc in logs]
    for command in [c.strip() for c in query.split("|")[1:]]:
        verb, _, rest = command.partition(" ")
        if verb == "filter":
            for condition in rest.split(" and "):
                field_name, value = (p.strip() for p in condition.split("="))
                want: Any = json.loads(value) if value.startswith('"') else int(value)
                rows = [r for r in rows if r.get(field_name) == want or (want == 1 and r.get(field_name) is True)]
        elif verb == "fields":
            names = [n.strip() for n in rest.split(",")]
            rows = [{n: r.get(n) for n in names} for r in rows]
        elif verb == "stats":
            match = re.fullmatch(r"count\(\*\) as (\w+) by (.+)", rest)
            if not match:
                raise ValueError(f"unsupported stats: {rest}")
            keys = [k.strip() for k in match.group(2).split(",")]
            counts: dict[tuple[Any, ...], int] = defaultdict(int)
            for r in rows:
                counts[tuple(r.get(k) for k in keys)] += 1
            rows = [{**dict(zip(keys, k, strict=True)), match.group(1): n} for k, n in counts.items()]
        elif verb == "sort":
            field_name, order = rest.split()
            rows.sort(key=lambda r: (r.get(field_name) is None, r.get(field_name)), reverse=order == "desc")
        elif verb == "limit":
            rows = rows[: int(rest)]
        else:
            raise ValueError(f"unsupported Logs Insights command: {command}")
    return rows


# -- drawing ---------------------------------------------------------------------------------------
ALARM_COLOURS = {"OK": "#2ca02c", "ALARM": "#d62728", "not simulated": "#b0b0b0"}


def draw(body: dict[str, Any], capture: Capture, out: Path, caption: str, digest: str = "") -> None:
    rows = max(w["y"] + w["height"] for w in body["widgets"])
    unit = 0.62  # inches per grid row
    fig = plt.figure(figsize=(24 * 0.75, rows * unit + 1.2), dpi=90)
    fig.suptitle("ecs-watchdog dashboard", x=0.01, ha="left", fontsize=15, fontweight="bold")
    fig.text(0.01, 0.004, textwrap.fill(caption, 190), fontsize=9, style="italic", color="#444")
    top = 1 - 0.6 / (rows * unit + 1.2)
    height_of_row = (top - 0.035) / rows
    for widget in body["widgets"]:
        x, y, w, h = widget["x"] / 24, widget["y"], widget["width"] / 24, widget["height"]
        box = [x + 0.03, top - (y + h) * height_of_row + 0.1 * height_of_row, w - 0.045, (h - 1.1) * height_of_row]
        ax = fig.add_axes(box)
        properties = widget["properties"]
        ax.set_title(properties.get("title", ""), loc="left", fontsize=10, fontweight="bold")
        if widget["type"] == "alarm":
            _draw_alarms(ax, properties, capture)
        elif widget["type"] == "log":
            _draw_table(ax, logs_insights(properties["query"], capture.logs, datetime.now()))
        else:
            _draw_graph(ax, properties, capture)
    fig.savefig(out, metadata={DIGEST_KEY: digest})


def _draw_alarms(ax: Any, properties: dict[str, Any], capture: Capture) -> None:
    ax.axis("off")
    alarms = properties["alarms"]
    for i, arn in enumerate(alarms):
        name = re.sub(r"^<Health|[0-9A-F]{8}\.Arn>$", "", arn)
        state = "not simulated"
        if "DeadLetterQueueNotEmpty" in name and "Delivery" not in name:
            state = "ALARM" if capture.dead_lettered else "OK"
        elif "FunctionErrors" in name:
            state = "ALARM" if any(r for _, _, r in capture.invocations) else "OK"
        ax.add_patch(plt.Rectangle((i / len(alarms), 0.15), 0.97 / len(alarms), 0.7, color=ALARM_COLOURS[state]))
        ax.text(
            i / len(alarms) + 0.485 / len(alarms),
            0.5,
            f"{name}\n{state}",
            ha="center",
            va="center",
            fontsize=8,
            color="white",
        )


def _draw_graph(ax: Any, properties: dict[str, Any], capture: Capture) -> None:
    series, missing = metric_widget_series(capture, properties)
    buckets = range(int(capture.horizon // BUCKET_MINUTES) + 1)
    minutes = [b * BUCKET_MINUTES / 60 for b in buckets]  # hours, as the console's axis would show
    ax.tick_params(labelsize=7)
    ax.set_xlabel("simulated hours", fontsize=7)
    if not series:
        ax.text(
            0.5,
            0.5,
            "no data in a replay:\n" + "\n".join(missing) if missing else "no data points in this replay",
            ha="center",
            va="center",
            fontsize=8,
            color="#666",
            transform=ax.transAxes,
        )
        ax.set_xlim(0, minutes[-1])
        return
    labels = sorted(series)
    values = [[series[label].get(b, 0.0) for b in buckets] for label in labels]
    if properties.get("stacked"):
        ax.stackplot(minutes, values, labels=labels, step="post", alpha=0.85)
    else:
        for label, row in zip(labels, values, strict=True):
            ax.step(minutes, row, where="post", label=label)
    ax.set_xlim(0, minutes[-1])
    ax.legend(fontsize=6, loc="upper right", ncol=2 if len(labels) > 6 else 1, framealpha=0.7)
    if missing:
        ax.text(
            0.01,
            0.97,
            "not in a replay: " + ", ".join(missing),
            fontsize=6,
            color="#666",
            va="top",
            transform=ax.transAxes,
        )


def _draw_table(ax: Any, rows: list[dict[str, Any]]) -> None:
    ax.axis("off")
    if not rows:
        ax.text(0.5, 0.5, "no rows", ha="center", va="center", transform=ax.transAxes)
        return
    columns = list(rows[0])
    cells = [[_short(r.get(c)) for c in columns] for r in rows[:12]]
    table = ax.table(cellText=cells, colLabels=columns, loc="upper left", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.5)
    table.auto_set_column_width(list(range(len(columns))))


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.split("/", 2)[-1] if text.count("/") >= 3 else text  # account/region/cluster/service
    return text if len(text) <= 48 else text[:45] + "..."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path, default=DEFAULT_SCENARIOS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    # Before the handler is imported: the log lines are the Logs Insights widgets' data, and as in
    # Lambda the child loggers log through the handler's logger.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    os.environ["POWERTOOLS_SERVICE_NAME"] = "ecs-watchdog"
    warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
    body = dashboard()
    capture = replay(args.scenarios)
    names = ", ".join(p.stem for p in args.scenarios)
    caption = (
        f"A rendering, not a screenshot: the synthesized dashboard definition drawn with matplotlib from the "
        f"EMF metrics and log lines of the real handler replaying {names} on moto (one shared simulated clock; "
        f"durations are local x86 timings). Regenerate: scripts/run.sh python scripts/render_dashboard.py"
    )
    draw(body, capture, args.out, caption, inputs_digest(args.scenarios))
    print(
        f"{args.out}: {len(capture.emf)} EMF lines, {len(capture.logs)} log lines, "
        f"{len(capture.invocations)} invocations"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
