"""Readable tables for replay results: one run in detail, or many runs side by side."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_result(result: dict[str, Any]) -> str:
    """One scenario under one policy: per-service figures, then actions and messages."""
    out = [f"scenario {result['scenario']} - policy {result['policy']} - {result['events']['total']} events"]
    rows = []
    for name, s in result["services"].items():
        categories = ", ".join(f"{k} {v}" for k, v in s["categories"].items()) or "-"
        final = s["final"]
        rows.append(
            [
                name,
                s["failed_tasks_before_containment"],
                s["minutes_to_containment"],
                s.get("event_to_action_seconds"),
                s["failed_tasks_total"],
                categories,
                s["right_cause"],
                f"{final['desired_count']} desired, rev {_cell(final['running_revision'])}, "
                f"{final['healthy_tasks']} healthy",
            ]
        )
    out.append(
        _table(
            [
                "service",
                "failed before containment",
                "minutes",
                "event to action s",
                "failed total",
                "categories",
                "right cause",
                "final",
            ],
            rows,
        )
    )
    actions = [(name, a) for name, s in result["services"].items() for a in s["actions"]]
    if actions:
        out.append("")
        out.append(
            _table(
                ["minute", "service", "action", "detail", "dry run"],
                [[a["minute"], name, a["action"], a["detail"], a["dry_run"]] for name, a in actions],
            )
        )
    if result["notifications"]:
        out.append("")
        out.append(f"{len(result['notifications'])} messages sent:")
        for n in result["notifications"]:
            first_line = n["text"].splitlines()[0] if n["text"] else ""
            out.append(f"  {n['minute']:>8.1f}  {n['channel']:<5}  {first_line[:100]}")
    return "\n".join(out)


def render_comparison(results: Iterable[dict[str, Any]]) -> str:
    """Many runs, one row per scenario x policy x service: the demo's comparison table."""
    rows = []
    for result in results:
        messages = len(result["notifications"])
        for name, s in result["services"].items():
            rows.append(
                [
                    result["scenario"],
                    result["policy"],
                    name,
                    (s.get("incident") or {}).get("failed_tasks_before"),
                    (s.get("incident") or {}).get("minute"),
                    s["failed_tasks_before_containment"],
                    s["minutes_to_containment"],
                    s.get("event_to_action_seconds"),
                    s["failed_tasks_total"],
                    s.get("good_deployments_rolled_back"),
                    s["right_cause"],
                    messages,
                ]
            )
    return _table(
        [
            "scenario",
            "policy",
            "service",
            "failed before incident",
            "minute",
            "failed before containment",
            "minutes",
            "event to action s",
            "failed total",
            "good rolled back",
            "right cause",
            "messages",
        ],
        rows,
    )


def render_recorded(result: dict[str, Any]) -> str:
    """Findings and would-be actions from a recorded (EventBridge archive) replay."""
    summary = result.get("summary") or {}
    where = f", account {summary['account']} {summary['region']}" if summary.get("account") else ""
    out = [f"{result['events']} events from {result['source']} (watchdog in dry-run{where})"]
    if summary.get("skipped_other_account_or_region"):
        out.append(
            f"{summary['skipped_other_account_or_region']} of {summary['events_read']} events skipped: "
            "other accounts or regions (a watchdog watches one account and region)"
        )
    rows = [
        [name, s["failed_tasks"], ", ".join(f"{k} {v}" for k, v in s["categories"].items()) or "-"]
        for name, s in result["services"].items()
    ]
    out.append(_table(["service", "failed tasks", "categories"], rows))
    if result["actions"]:
        out.append("")
        out.append(
            _table(
                ["time", "service", "would have", "detail"],
                [[a["time"], a["service"], a["action"], a["detail"]] for a in result["actions"]],
            )
        )
    out.append("")
    out.append(f"{len(result['notifications'])} messages would have been sent:")
    for n in result["notifications"]:
        first_line = n["text"].splitlines()[0] if n["text"] else ""
        out.append(f"  {n['time']}  {n['channel']:<5}  {first_line[:100]}")
    if summary:
        out.append("")
        out.append(
            f"Read {summary['events_read']} events: {summary['services']} services, {summary['failed_tasks']} failed "
            f"tasks, {summary['incidents']} incidents, {summary['messages']} messages, {summary['actions']} actions."
        )
        if summary.get("why_nothing"):
            out.append(f"Nothing would have been said: {summary['why_nothing']}.")
    return "\n".join(out)
