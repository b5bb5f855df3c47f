"""Run one scenario under one policy and compute the result the `replay` command prints.

Policies: `none` (no watchdog, breaker forced off), `circuit-breaker` (no watchdog, breaker forced on
with rollback), `watchdog` and `watchdog-dry-run` (the scenario's own deployment configuration, plus the
watchdog under test). For the watchdog policies the runner builds the account in moto, installs the
mirror's hooks on a fresh boto3 session, builds the watchdog through its factory and hands it the
EventBridge envelopes in small batches as they happen (at most 10 per batch, as one SQS batch, and no
batch spanning more than 5 simulated seconds); the watchdog's ECS calls act on the model between
batches. The policies without a watchdog never touch moto, so they replay in milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from moto import mock_aws

from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.mirror import Mirror, RecordedAction, new_session
from ecs_watchdog.replay.policies import POLICIES, WATCHDOG_POLICIES
from ecs_watchdog.replay.scenario import Scenario
from ecs_watchdog.replay.scheduler import Containment, Scheduler, SimEvent, TaskEvent, policy_configs
from ecs_watchdog.replay.seam import SentMessage, WatchdogFactory, WatchdogUnderTest

BATCH_SIZE = 10
BATCH_WINDOW_SECONDS = 5.0
UNCLASSIFIED = "unclassified"

_NOT_LOADED = object()
_classifier: Any = _NOT_LOADED


def categorize(envelope: dict[str, Any]) -> str:
    """The watchdog's category for a stopped-task envelope (its classifier), or `unclassified`.

    The classifier is `ecs_watchdog.classify.classify_envelope(envelope).category`; until it exists the
    replay still runs and counts everything as `unclassified`.
    """
    global _classifier
    if _classifier is _NOT_LOADED:
        try:
            from ecs_watchdog.classify import classify_envelope  # type: ignore[attr-defined]
        except ImportError:
            _classifier = None
        else:
            _classifier = classify_envelope
    if _classifier is None:
        return UNCLASSIFIED
    return str(_classifier(envelope).category)


@dataclass
class _Tally:
    """Counts kept while the replay runs."""

    events: Counter[str]
    categories: dict[str, Counter[str]]

    def add(self, event: SimEvent, envelope: dict[str, Any]) -> None:
        self.events[envelope["detail-type"]] += 1
        if isinstance(event, TaskEvent) and event.failure:
            self.categories.setdefault(event.service, Counter())[categorize(envelope)] += 1


def run_scenario(scenario: Scenario, policy: str, watchdog_factory: WatchdogFactory | None = None) -> dict[str, Any]:
    """Replay `scenario` under `policy`; return the result dict (see docs/replay.md for the contract)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
    scheduler = Scheduler(scenario, policy_configs(scenario, policy))
    envelopes = EnvelopeFactory(
        seed=scenario.seed, region=scenario.region, cluster=scenario.cluster, start=scenario.start_time
    )
    tally = _Tally(events=Counter(), categories={})
    if policy not in WATCHDOG_POLICIES:
        while scheduler.next_time() is not None:
            for event in scheduler.step():
                tally.add(event, envelopes.envelope(event))
        return _result(scenario, policy, scheduler, tally, [], [], None, {})
    factory = watchdog_factory or _default_factory()
    dry_run = policy == "watchdog-dry-run"
    with mock_aws():
        mirror = Mirror(scenario, scheduler, dry_run=dry_run)
        mirror.build()
        session = new_session(scenario.region)
        mirror.install(session)
        watchdog = factory(session, lambda: envelopes.at(scheduler.now), dry_run)
        try:
            _drive(scheduler, envelopes, tally, watchdog)
            messages = watchdog.messages()
            actions = list(mirror.actions) + _intended_actions(watchdog, scenario)
            reported = _reported_categories(watchdog)
            openings = _incident_openings(watchdog, scenario)
        finally:
            close = getattr(watchdog, "close", None)  # optional: release what the watchdog started
            if close is not None:
                close()
    return _result(scenario, policy, scheduler, tally, messages, actions, reported, openings)


def _default_factory() -> WatchdogFactory:
    from ecs_watchdog.replay.watchdog_adapter import make_watchdog  # type: ignore[import-not-found]

    factory: WatchdogFactory = make_watchdog
    return factory


def _drive(scheduler: Scheduler, envelopes: EnvelopeFactory, tally: _Tally, watchdog: WatchdogUnderTest) -> None:
    """Advance the clock, handing the watchdog each batch as soon as it closes."""
    batch: list[dict[str, Any]] = []
    opened_at = 0.0
    while True:
        upcoming = scheduler.next_time()
        closes_at = min(opened_at + BATCH_WINDOW_SECONDS, scheduler.horizon)
        if batch and (upcoming is None or upcoming > closes_at or len(batch) >= BATCH_SIZE):
            # The batch is delivered when it closes, not when the model next has something to do.
            if upcoming is None or upcoming > closes_at:
                scheduler.advance_clock(max(closes_at, scheduler.now))
            while batch:
                watchdog.deliver(batch[:BATCH_SIZE])
                del batch[:BATCH_SIZE]
            # Whatever the watchdog's calls changed emits events now; they open the next batch.
            for event in scheduler.drain():
                envelope = envelopes.envelope(event)
                tally.add(event, envelope)
                batch.append(envelope)
            opened_at = scheduler.now
            continue
        if upcoming is None:
            return
        for event in scheduler.step():
            if not batch:
                opened_at = scheduler.now
            envelope = envelopes.envelope(event)
            tally.add(event, envelope)
            batch.append(envelope)


def _intended_actions(watchdog: WatchdogUnderTest, scenario: Scenario) -> list[RecordedAction]:
    """Actions a dry-run watchdog reports it would have taken (optional `intended_actions()`).

    Each item may be a mapping or an object with `service`, `action`, `detail` and optionally `at`
    (a datetime) or `minute`.
    """
    method = getattr(watchdog, "intended_actions", None)
    if method is None:
        return []
    recorded = []
    for item in method():
        get = item.get if isinstance(item, Mapping) else lambda k, o=item: getattr(o, k, None)
        at = get("at")
        if isinstance(at, datetime):
            seconds = (at - scenario.start_time).total_seconds()
        else:
            seconds = float(get("minute") or 0.0) * 60.0
        recorded.append(RecordedAction(seconds, get("service"), str(get("action")), str(get("detail") or ""), True))
    return recorded


def _reported_categories(watchdog: WatchdogUnderTest) -> Mapping[str, str] | None:
    """The category of each service's incident, if the watchdog says (optional `incident_categories()`)."""
    method = getattr(watchdog, "incident_categories", None)
    return dict(method()) if method is not None else None


def _incident_openings(watchdog: WatchdogUnderTest, scenario: Scenario) -> dict[str, dict[str, Any]]:
    """When each service's first incident opened, and how many of its tasks had failed by then
    (optional `incident_openings()`: service → (datetime, failed tasks))."""
    method = getattr(watchdog, "incident_openings", None)
    if method is None:
        return {}
    return {
        name: {"minute": _minute((at - scenario.start_time).total_seconds()), "failed_tasks_before": failed}
        for name, (at, failed) in method().items()
    }


# Containment causes that come from the scenario's own timeline (a person's deploy, scale or break).
_TIMELINE_CAUSES = ("deploy", "scale:", "break:")


def _containment(containment: Containment | None, first_failure_at: float | None) -> dict[str, Any] | None:
    """The per-service `containment` object, or None when nothing but the timeline contained it."""
    # Without a failure (first_failure_at None) it was contained before the first one: 0 failed.
    if containment is None or containment.by.startswith(_TIMELINE_CAUSES):
        return None
    return {
        "minute": _minute(containment.at),
        "failed_tasks_before": containment.failed_before,
        "action": containment.by,
    }


def _minute(seconds: float) -> float:
    return round(seconds / 60.0, 2)


def _result(
    scenario: Scenario,
    policy: str,
    scheduler: Scheduler,
    tally: _Tally,
    messages: list[SentMessage],
    actions: list[RecordedAction],
    reported: Mapping[str, str] | None,
    openings: Mapping[str, dict[str, Any]],
) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for name in scheduler.service_names:
        view = scheduler.service(name)
        containment = scheduler.containment(name)
        first = scheduler.first_failure_at(name)
        categories = tally.categories.get(name, Counter())
        serving = max(view.deployments, key=lambda d: d.healthy_count, default=None)
        services[name] = {
            "failed_tasks_before_containment": containment.failed_before if containment else None,
            "minutes_to_containment": _minute(containment.at - first) if containment and first is not None else None,
            "failed_tasks_total": scheduler.failed_tasks(name),
            # Extension: deployments of a good revision (left alone it completes) that were undone.
            "good_deployments_rolled_back": scheduler.good_deployments_rolled_back(name),
            "categories": dict(sorted(categories.items())),
            "right_cause": _right_cause(scenario, policy, name, categories, messages, reported),
            "actions": [
                {"minute": _minute(a.at), "action": a.action, "detail": a.detail, "dry_run": a.dry_run}
                for a in actions
                if a.service == name
            ],
            "contained_by": containment.by if containment else None,
            # Extension: when the watchdog, the breaker or a lifecycle hook (not a person's timeline
            # entry) stopped the failures, how many had failed by then and what did it.
            "containment": _containment(containment, first),
            # Extension of the contract: when the watchdog's first incident for the service opened.
            "incident": openings.get(name),
            "final": {
                "desired_count": view.desired_count,
                "running_revision": serving.revision if serving and serving.healthy_count else None,
                "healthy_tasks": view.healthy_count,
            },
        }
    unattributed = [a for a in actions if a.service not in services]
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "policy": policy,
        "notifications": [
            {
                "minute": _minute((m.at - scenario.start_time).total_seconds()),
                "channel": m.channel,
                "text": m.text,
            }
            for m in messages
        ],
        "events": {"total": sum(tally.events.values()), **dict(sorted(tally.events.items()))},
        "services": services,
    }
    if unattributed:
        result["unattributed_actions"] = [
            {"minute": _minute(a.at), "action": a.action, "detail": a.detail, "dry_run": a.dry_run}
            for a in unattributed
        ]
    return result


def _right_cause(
    scenario: Scenario,
    policy: str,
    name: str,
    categories: Counter[str],
    messages: list[SentMessage],
    reported: Mapping[str, str] | None,
) -> bool | None:
    """Did the watchdog name the expected cause? None without a watchdog or an expectation."""
    expectation = scenario.expect.get(name)
    if expectation is None or policy not in WATCHDOG_POLICIES:
        return None
    if not expectation.incident:
        return not any(name in m.text for m in messages)
    if reported is not None:
        return reported.get(name) == expectation.category
    if not categories:
        return False
    # The most frequent category; ties go to the alphabetically first, so the answer is stable.
    top = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return top == expectation.category
