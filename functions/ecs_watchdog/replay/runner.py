"""Run one scenario under one policy and compute the result the `replay` command prints.

Policies: `none` (no watchdog, breaker forced off), `circuit-breaker` (no watchdog, breaker forced on
with rollback), `watchdog` and `watchdog-dry-run` (the scenario's own deployment configuration, plus the
watchdog under test). For the watchdog policies the runner builds the account in moto, installs the
mirror's hooks on a fresh boto3 session, builds the watchdog through its factory and hands it the
EventBridge envelopes as Lambda's SQS event source would: each reaches the queue the scenario's
`delivery.eventbridge_to_sqs_seconds` after it happened, and a batch goes to the handler when its window
(`batching_window_seconds`, from its first record's arrival) closes or it holds `batch_size` records
(defaults: no delay, then the deployed stack's batching: no window, 10 records). The watchdog's ECS calls
act on the model between batches. A Lambda lifecycle hook the model reaches is answered at that simulated
instant by the watchdog's hook function (`answer_lifecycle_hook`), or SUCCEEDED where there is no watchdog.
The policies without a watchdog never touch moto, so they replay in milliseconds.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_watchdog.replay.envelopes import EnvelopeFactory
from ecs_watchdog.replay.mirror import Mirror, RecordedAction, new_session
from ecs_watchdog.replay.offline_aws import offline_aws
from ecs_watchdog.replay.policies import POLICIES, WATCHDOG_POLICIES
from ecs_watchdog.replay.scenario import Delivery, Scenario
from ecs_watchdog.replay.scheduler import (
    Containment,
    LambdaHookInvocation,
    Scheduler,
    SimEvent,
    TaskEvent,
    policy_configs,
)
from ecs_watchdog.replay.seam import SentMessage, WatchdogFactory, WatchdogUnderTest

BATCH_SIZE = Delivery.batch_size  # the stack's defaults, also the recorded-events replay's batching
BATCH_WINDOW_SECONDS = Delivery.batching_window_seconds
NO_HOOK_FUNCTION = {"hookStatus": "SUCCEEDED"}  # without a watchdog a Lambda hook is as if it were not there
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


@dataclass(frozen=True)
class _Queued:
    """One envelope on its way to the handler: when it reaches the SQS queue, and whose it is."""

    arrives_at: float
    service: str
    failure: bool
    envelope: dict[str, Any]


@dataclass
class _Latency:
    """How long after the crossing event reached the queue the watchdog made its containment call.

    The crossing event is the latest failed-task event of the service the watchdog had been handed when it
    made the call (the one whose batch made it act); a containment before any failure (a preflight at the
    deployment event) counts from the latest event of the service handed over. Only a containment that
    happens while the watchdog handles a batch or answers a Lambda hook is the watchdog's."""

    last_failure: dict[str, float] = field(default_factory=dict)
    last_event: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def handed(self, records: list[_Queued]) -> None:
        for record in records:
            self.last_event[record.service] = record.arrives_at
            if record.failure:
                self.last_failure[record.service] = record.arrives_at

    @staticmethod
    def contained(scheduler: Scheduler) -> set[str]:
        return {n for n in scheduler.service_names if scheduler.containment(n) is not None}

    def acted(self, scheduler: Scheduler, before: set[str]) -> None:
        for name in self.contained(scheduler) - before:
            arrived = self.last_failure.get(name, self.last_event.get(name))
            containment = scheduler.containment(name)
            if arrived is not None and containment is not None and name not in self.seconds:
                self.seconds[name] = round(containment.at - arrived, 2)


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
            for event in scheduler.step() + _answer_hooks(scheduler, None, envelopes, [], None):
                tally.add(event, envelopes.envelope(event))
        return _result(scenario, policy, scheduler, tally, [], [], None, {}, {})
    factory = watchdog_factory or _default_factory()
    dry_run = policy == "watchdog-dry-run"
    latency = _Latency()
    answered: list[RecordedAction] = []
    with offline_aws():
        mirror = Mirror(scenario, scheduler, dry_run=dry_run)
        mirror.build()
        session = new_session(scenario.region)
        mirror.install(session)
        watchdog = factory(session, lambda: envelopes.at(scheduler.now), dry_run)
        try:
            _drive(scheduler, envelopes, tally, watchdog, scenario.delivery, latency, answered)
            messages = watchdog.messages()
            calls = list(mirror.actions) + answered
            actions = sorted(calls, key=lambda a: a.at) + _intended_actions(watchdog, scenario)
            reported = _reported_categories(watchdog)
            openings = _incident_openings(watchdog, scenario)
        finally:
            close = getattr(watchdog, "close", None)  # optional: release what the watchdog started
            if close is not None:
                close()
    return _result(scenario, policy, scheduler, tally, messages, actions, reported, openings, latency.seconds)


def _answer_hooks(
    scheduler: Scheduler,
    watchdog: WatchdogUnderTest | None,
    envelopes: EnvelopeFactory,
    answered: list[RecordedAction],
    latency: _Latency | None,
) -> list[SimEvent]:
    """Answer every Lambda hook invocation the model made at this instant (and those the answers lead to)
    through the watchdog's hook function (`answer_lifecycle_hook`, optional) or, without one, SUCCEEDED.
    Returns the events the answers made the model emit."""
    hook_function = getattr(watchdog, "answer_lifecycle_hook", None)
    events: list[SimEvent] = []
    while invocations := scheduler.drain_invocations():
        for invocation in invocations:
            before = _Latency.contained(scheduler)
            answer = hook_function(envelopes.lambda_hook_payload(invocation)) if hook_function else NO_HOOK_FUNCTION
            became = scheduler.answer_lambda_hook(invocation, answer)
            if latency is not None:
                latency.acted(scheduler, before)
            if hook_function is not None:
                answered.append(_hook_answer(scheduler.now, invocation, became))
            events += scheduler.drain()
    return events


def _hook_answer(at: float, invocation: LambdaHookInvocation, became: str) -> RecordedAction:
    """A Lambda hook's answer, in the result's actions beside the ECS calls: its return value is what holds,
    lets through or rolls back the deployment (`error`: an answer ECS does not take, so it rolled back)."""
    detail = f"{became}: {invocation.deployment_id} ({invocation.service}:{invocation.revision}) at {invocation.stage}"
    return RecordedAction(at, invocation.service, "lambda_hook_answer", detail, False)


def _default_factory() -> WatchdogFactory:
    from ecs_watchdog.replay.watchdog_adapter import make_watchdog  # type: ignore[import-not-found]

    factory: WatchdogFactory = make_watchdog
    return factory


def _drive(
    scheduler: Scheduler,
    envelopes: EnvelopeFactory,
    tally: _Tally,
    watchdog: WatchdogUnderTest,
    delivery: Delivery,
    latency: _Latency,
    answered: list[RecordedAction],
) -> None:
    """Advance the clock, handing the watchdog each batch as the SQS event source would."""
    on_the_way: deque[_Queued] = deque()  # put on the queue by EventBridge, in order of arrival
    batch: list[_Queued] = []
    opened_at = 0.0

    def emitted(events: list[SimEvent]) -> None:
        for event in events:
            envelope = envelopes.envelope(event)
            tally.add(event, envelope)
            failure = isinstance(event, TaskEvent) and event.failure
            arrives = scheduler.now + delivery.eventbridge_to_sqs_seconds
            on_the_way.append(_Queued(arrives, event.service, failure, envelope))

    while True:
        upcoming = scheduler.next_time()
        arrival = on_the_way[0].arrives_at if on_the_way else None
        following = min((t for t in (upcoming, arrival) if t is not None), default=None)
        closes_at = min(opened_at + delivery.batching_window_seconds, scheduler.horizon)
        full = len(batch) >= delivery.batch_size
        if batch and (full or following is None or following > closes_at):
            # The batch is delivered when it closes (or fills), not when the model next has something to do.
            scheduler.advance_clock(scheduler.now if full else max(closes_at, scheduler.now))
            # What else is on the queue by now goes too: the event source's pollers take it in parallel.
            while on_the_way and on_the_way[0].arrives_at <= scheduler.now:
                batch.append(on_the_way.popleft())
            while batch:
                chunk = batch[: delivery.batch_size]
                del batch[: delivery.batch_size]
                latency.handed(chunk)
                before = latency.contained(scheduler)
                watchdog.deliver([q.envelope for q in chunk])
                latency.acted(scheduler, before)
            # Whatever the watchdog's calls changed emits events now; they reach the queue like any other.
            emitted(scheduler.drain())
            emitted(_answer_hooks(scheduler, watchdog, envelopes, answered, latency))
            continue
        if arrival is not None and (upcoming is None or arrival <= upcoming):
            if arrival > scheduler.now:
                scheduler.advance_clock(arrival)
            if not batch:
                opened_at = scheduler.now
            batch.append(on_the_way.popleft())
            continue
        if upcoming is None:
            return
        emitted(scheduler.step())
        emitted(_answer_hooks(scheduler, watchdog, envelopes, answered, latency))


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
    event_to_action: Mapping[str, float],
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
            # Extension: simulated seconds from the crossing event's arrival on the queue to the watchdog's
            # containment call (None without one: no watchdog, or contained by the breaker or the timeline).
            "event_to_action_seconds": event_to_action.get(name),
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
