"""What a message about an incident transition says, before any format: facts, action, probes, links.

Pure: a transition and a service in, plain strings out. `slack_blocks` and `email` lay the same content
out for Slack and for a mail client, so both always tell the same story.

Containment and probes attach to a transition as optional attributes (`action`, `probes`,
`stopped_task`); they are read here leniently (a dict or a model, absent or partial), so a message can
be rendered from any stored transition, old or new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.classify import links
from ecs_watchdog.incidents.correlation_organization import accounts_line
from ecs_watchdog.incidents.model import Explanation, Incident, Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

KIND_TITLES = {
    "failing_deployment": "Failing deployment",
    "crash_loop": "Crash loop",
    "deterministic": "Confirmed failure",
    "start_impaired": "Tasks cannot start",
    "stuck_deployment": "Stuck deployment",
    "overlapping_deployments": "Overlapping deployments",
    "configuration_failure": "Service cannot be configured",
    "correlated": "Many services failing at once",
    "infrastructure": "Infrastructure trouble in the cluster (no rollback can fix it)",
}
ICONS = {
    TransitionKind.OPENED: ":rotating_light:",
    TransitionKind.REOPENED: ":rotating_light:",
    TransitionKind.CONTAINED: ":shield:",
    TransitionKind.RESOLVED: ":white_check_mark:",
    TransitionKind.CLOSED: ":white_check_mark:",
}


class _View(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class CallView(_View):
    operation: str = ""
    params: dict[str, Any] = Field(default_factory=dict)


class CountsView(_View):
    task_definition: str | None = None
    desired_count: int | None = None
    running_count: int | None = None


class ActionView(_View):
    """`transition.action`: what containment did, or in dry-run the exact call it would make. Its
    `outcome` decides every word about it: only `done` and `fallback_done` say anything was changed."""

    kind: str
    dry_run: bool = False
    call: CallView | None = None
    calls: list[CallView] = Field(default_factory=list)
    calls_made: list[CallView] = Field(default_factory=list)
    reason: str = ""
    outcome: str | None = None  # contain/models.py Outcome; None in records from before outcomes were shown
    error: str | None = None
    note: str | None = None
    would_have: str | None = None
    before: CountsView | None = None
    after: CountsView | None = None

    @property
    def changed_service(self) -> bool:
        return self.outcome in (None, "done", "fallback_done") and not self.dry_run and _acting(self.kind)


ACTION_HEADINGS = {
    "done": "Action taken",
    "fallback_done": "Action taken (fallback)",
    "dry_run": "Would do (dry-run)",
    "failed": "Action FAILED: nothing more was changed",
    "refused": "Action REFUSED by ECS: nothing was changed",
    "unknown": "Action outcome UNKNOWN: checking the service",
    "claimed": "Action under way",
    "proposed": "Proposed: nothing is changed until a person approves it",
}


class ProbeView(_View):
    """One entry of `transition.probes`: a read-only check and what it found."""

    name: str
    status: str  # confirmed | refuted | inconclusive | failed, as the probe names it
    summary: str = ""


class StoppedTaskView(_View):
    """`transition.stopped_task`: the task whose stop explains the transition, and its logs when known."""

    task_arn: str
    container: str | None = None
    log_group: str | None = None
    log_stream: str | None = None


def _attribute(transition: Transition, name: str) -> Any:
    value = getattr(transition, name, None)
    if value is None and transition.model_extra:
        value = transition.model_extra.get(name)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [v.model_dump(mode="json") if isinstance(v, BaseModel) else v for v in value]
    return value


def action_from_record(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """An incident's stored containment record (contain/models.py ActionRecord, as JSON) as a transition's
    `action`: what the message says about it."""
    if not record or not isinstance(record.get("action"), dict):
        return None
    calls = record["action"].get("calls") or []
    return {
        **record["action"],
        "outcome": record.get("outcome"),
        "dry_run": record.get("outcome") == "dry_run",
        "call": calls[0] if calls else None,
        "calls_made": record.get("calls_made") or [],
        "error": record.get("error"),
        "note": record.get("note"),
    }


def action_of(transition: Transition) -> ActionView | None:
    """The containment action attached to the transition, if any."""
    raw = _attribute(transition, "action")
    return ActionView.model_validate(raw) if isinstance(raw, dict) else None


def probes_of(transition: Transition) -> list[ProbeView]:
    """The probe results attached to the transition, in their order."""
    raw = _attribute(transition, "probes")
    return [ProbeView.model_validate(p) for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []


def stopped_task_of(transition: Transition) -> StoppedTaskView | None:
    """The stopped task attached to the transition, if any."""
    raw = _attribute(transition, "stopped_task")
    return StoppedTaskView.model_validate(raw) if isinstance(raw, dict) else None


def living(opening: Transition, latest: Transition) -> Transition:
    """What an incident's living message shows: the latest status and summary, keeping what the opening
    knew (evidence, next steps, the stopped task, probes, the action) where the latest says nothing."""
    keep: dict[str, Any] = {"explanation": latest.explanation or opening.explanation}
    for name in ("action", "probes", "stopped_task"):
        value = _attribute(latest, name) or _attribute(opening, name)
        if value:
            keep[name] = value
    return latest.model_copy(update=keep)


def runbook_url(runbook: str, base_url: str | None) -> str:
    """The runbook as a link people can open from Slack: base URL + repository path when configured."""
    return f"{base_url.rstrip('/')}/{runbook}" if base_url else runbook


def title(incident: Incident) -> str:
    """The incident kind as people say it, with its cause: `Failing deployment (image)`."""
    name = KIND_TITLES.get(str(incident.kind), str(incident.kind))
    return f"{name} ({incident.category})" if incident.category else name


def status_word(transition: Transition, opened: Transition | None = None) -> str:
    """`OPENED`, `CONTAINED`...; `OPENED AND CONTAINED` for one message that says both (`opened`: the opening)."""
    word = str(transition.kind).upper()
    return f"{str(opened.kind).upper()} AND {word}" if opened is not None else word


def together(opened: Transition, contained: Transition) -> Transition:
    """One transition to render for an incident opened and contained at once: the containment's status
    and action, the opening's evidence, both summaries (the opening's first)."""
    both = living(opened, contained)
    return both.model_copy(update={"summary": f"{opened.summary} {contained.summary}"})


def headline(transition: Transition, ref: ServiceRef, opened: Transition | None = None) -> str:
    """One line: what happened to which service, e.g. `OPENED prod/api: Failing deployment (image)`;
    `OPENED AND CONTAINED prod/api: ...` when `opened` is the opening the message also tells."""
    incident = transition.incident
    where = f"{ref.region} account {ref.account}" if incident.kind == "correlated" else ref.label
    if incident.accounts:  # across the organization: the hub's region, the accounts in the facts
        where = f"{ref.region}, {len(incident.accounts)} accounts"
    if incident.kind == "infrastructure":
        where = f"cluster {ref.cluster}"
    return f"{status_word(transition, opened)} {where}: {title(incident)}"


def where(ref: ServiceRef) -> str:
    """service · cluster · region · account."""
    return f"{ref.name} · {ref.cluster} · {ref.region} · {ref.account}"


def since(at: datetime) -> str:
    """A time people can compare across messages: `2025-07-21 08:03 UTC`."""
    return at.strftime("%Y-%m-%d %H:%M UTC")


def revision(task_definition: str | None) -> str:
    """`family:revision` of a task definition ARN; `unknown` when there is none."""
    return (task_definition or "unknown").rsplit("/", 1)[-1]


def facts(transition: Transition) -> list[tuple[str, str]]:
    """The counts and identifiers of the incident, label first; at most 10 (a Slack section's fields)."""
    incident = transition.incident
    found = [
        ("Failed tasks", str(incident.failures)),
        ("Since", since(incident.opened_at)),
        ("Revision", revision(incident.task_definition)),
        ("Last known good", revision(incident.last_known_good)),
    ]
    if incident.categories:
        found.append(("Categories", ", ".join(f"{c} x{n}" for c, n in sorted(incident.categories.items()))))
    if incident.deployment_id:
        found.append(("Deployment", incident.deployment_id))
    if incident.accounts:
        found.append(("Accounts", accounts_line(incident.accounts).removeprefix("accounts ")))
    found.append(("Incident", incident.id))
    if not incident.containment_eligible:
        found.append(("Containment", "not automatic (cause unknown or shared by many services)"))
    return found[:10]


def action_heading(action: ActionView) -> str:
    """The heading of the action's section: what became of it, never "taken" for a call that was not."""
    if action.dry_run:
        return ACTION_HEADINGS["dry_run"]
    if action.outcome in ACTION_HEADINGS:
        return ACTION_HEADINGS[action.outcome]
    if action.outcome == "not_acted" or not _acting(action.kind):
        return "Held back: nothing was changed" if action.would_have else "No action: nothing was changed"
    return ACTION_HEADINGS["done"]


def action_lines(action: ActionView) -> list[str]:
    """The action in plain words: what was done (or would be, or failed), the exact call, the reason, and
    before → after only where the service did change (or would, in dry-run)."""
    kind = action.kind.replace("_", " ")
    outcome = action.outcome
    if action.dry_run:
        first = f"Would: {kind} (dry-run: no call made)"
    elif action.changed_service:
        first = f"Did: {kind}"
    elif outcome == "failed":
        first = f"Tried: {kind}. It FAILED: {action.error or 'no error recorded'}"
    elif outcome == "refused":
        first = f"Tried: {kind}. ECS REFUSED it: {action.error or 'no reason given'}"
    elif outcome == "unknown":
        first = f"Tried: {kind}. No answer came back ({action.error or 'lost'}): the watchdog checks the service"
    elif outcome == "claimed":
        first = f"Doing: {kind}"
    elif outcome == "proposed":
        first = f"Proposed: {proposed_words(action)} — press Approve"
    elif action.would_have:
        first = f"Held back from: {action.would_have.replace('_', ' ')}"
    else:
        first = f"No action: {kind}"
    lines = [first]
    calls = action.calls or ([action.call] if action.call is not None else [])
    for call in calls:
        if call.operation:
            params = ", ".join(f"{k}={_param(v)}" for k, v in sorted(call.params.items()))
            lines.append(f"Call: {call.operation}({params})")
    if outcome in ("failed", "refused", "unknown") and action.calls_made:
        lines.append("Made before that: " + ", ".join(c.operation for c in action.calls_made))
    if action.reason:
        lines.append(f"Why: {action.reason}")
    if action.note:
        lines.append(f"Note: {action.note}")
    if action.dry_run or action.changed_service or outcome == "proposed":
        lines.append(f"Before: {_counts(action.before)} -> after: {_counts(action.after)}")
    elif action.before is not None and not action.calls_made:
        lines.append(f"Service now: {_counts(action.before)} (unchanged by the watchdog)")
    return lines


def proposed_words(action: ActionView) -> str:
    """`roll back to api:6` / `scale to zero`: what a proposal would do, as its button says it."""
    if action.kind == "scale_to_zero":
        return "scale to zero"
    target = action.after.task_definition if action.after else None
    return f"roll back to {revision(target)}" if target else action.kind.replace("_", " ")


def _acting(kind: str) -> bool:
    return kind not in ("notify_only", "stand_down")


def probe_line(probe: ProbeView) -> str:
    """`name: status — summary`."""
    return f"{probe.name}: {probe.status}" + (f" - {probe.summary}" if probe.summary else "")


def explanation_of(transition: Transition) -> Explanation:
    """The transition's explanation, or an empty one."""
    return transition.explanation or Explanation()


def message_links(transition: Transition, ref: ServiceRef, runbook_base_url: str | None) -> list[tuple[str, str]]:
    """(label, URL): the service's events, the stopped task and its log stream when known, the runbook."""
    found = [("Service events", links.service_events_link(ref.region, ref.cluster, ref.name))]
    task = stopped_task_of(transition)
    if task is not None:
        found.append(("Stopped task", links.task_link(ref.region, ref.cluster, task.task_arn.rsplit("/", 1)[-1])))
        if task.log_group and task.log_stream:
            found.append(("Log stream", links.log_stream_link(ref.region, task.log_group, task.log_stream)))
    runbook = explanation_of(transition).runbook
    if runbook:
        found.append(("Runbook", runbook_url(runbook, runbook_base_url)))
    return found


def _counts(counts: CountsView | None) -> str:
    if counts is None:
        return "unknown"
    parts = [revision(counts.task_definition)] if counts.task_definition else []
    if counts.desired_count is not None:
        parts.append(f"desired {counts.desired_count}")
    if counts.running_count is not None:
        parts.append(f"running {counts.running_count}")
    return ", ".join(parts) or "unknown"


def _param(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
