"""The one path an ECS event takes: typed event → Stop → Classification → incident transition → messages.

Handlers, the CLI and the simulator all call `Pipeline.process`; it holds no boto3, only the narrow
adapters it is given. Cost per event (measured in tests/integration/test_event_costs.py): a benign
stop touches nothing; a failed stop is one read and one conditional write, plus the writes of a
transition when it causes one.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.events import (
    DeploymentStateChangeEvent,
    EcsEvent,
    ServiceActionEvent,
    TaskStateChangeEvent,
    stop_from_event,
)
from ecs_watchdog.incidents import correlation, engine
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.engine import Result, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.model import Explanation, ServiceState, StaleWrite, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.models import Finding, Stop
from ecs_watchdog.notify.render import SnsMessage, render_transition_slack, render_transition_sns

logger = Logger(child=True)

MAX_WRITE_ATTEMPTS = 10  # optimistic-lock retries before the event is handed back to SQS


def backoff(attempt: int) -> None:
    """Wait a little, randomly, before retrying a lost race, so racers do not collide again in step."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


class SnsPublisher(Protocol):
    def publish(self, message: SnsMessage, attributes: dict[str, str] | None = None) -> str: ...


class SlackPoster(Protocol):
    def post(self, payload: dict[str, Any]) -> None: ...


class StateStore(Protocol):
    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None: ...
    def is_cached(self, service: str) -> bool: ...
    def save_service(self, state: ServiceState, expires_after: datetime) -> ServiceState: ...
    def load_account(self, account: str, fresh: bool = False) -> AccountState | None: ...
    def save_account(self, state: AccountState, now: datetime) -> AccountState: ...
    def archive_incident(self, incident: Any) -> None: ...


class ServiceLookup(Protocol):
    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None: ...


EssentialContainers = Callable[[str], frozenset[str] | None]
# A probe's verdict seam: does a read-only check confirm this failure's cause? (probes issue)
ProbeConfirms = Callable[[Finding], bool]

OutcomeKind = Literal["transition", "counted", "benign", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one event, for logs, metrics, the CLI and the simulator."""

    kind: OutcomeKind
    reason: str
    finding: Finding | None = None
    transitions: tuple[Transition, ...] = ()
    channels: tuple[str, ...] = ()


@dataclass
class Pipeline:
    """Processes ECS events with the adapters it is given. `slack` is None when Slack is not configured."""

    state: StateStore
    services: ServiceLookup
    sns: SnsPublisher | None
    slack: SlackPoster | None
    policy: LoopPolicy = field(default_factory=LoopPolicy)
    essential_containers: EssentialContainers | None = None
    probe_confirms: ProbeConfirms | None = None
    runbook_base_url: str | None = None
    pause: Callable[[int], None] = backoff  # between optimistic-lock retries

    # ----------------------------------------------------------------------------------------------
    def process(self, event: EcsEvent, redelivered: bool = False) -> Outcome:
        """Handle one parsed event. `redelivered`: SQS delivered it before, so a previous attempt may
        have stored transitions it never announced; they are announced now. Delivery and storage
        errors propagate, so the caller hands the event back to SQS for a retry."""
        if isinstance(event, TaskStateChangeEvent):
            return self._task_event(event, redelivered)
        if isinstance(event, DeploymentStateChangeEvent):
            ref = ServiceRef.from_arn(event.service_arn)
            if ref is None:
                return Outcome("ignored", f"deployment event names no service: {event.resources}")
            at = event.detail.updatedAt or event.time
            return self._step(
                ref,
                at,
                redelivered,
                need_snapshot=lambda state: True,
                decide=lambda state, snap: engine.apply_deployment_event(
                    state, event.detail.eventName, event.detail.deploymentId, at, event.detail.reason, snap, self.policy
                ),
            )
        if isinstance(event, ServiceActionEvent):
            ref = ServiceRef.from_arn(event.service_arn, event.detail.clusterArn)
            if ref is None:
                return Outcome("ignored", f"service action names no service: {event.resources}")
            at = event.detail.createdAt or event.time
            name = event.detail.eventName
            if name == "SERVICE_STEADY_STATE":
                # Periodic and usually uneventful: only worth a DescribeServices when it can change
                # something (an active incident to resolve, or no last known good yet).
                def need(state: ServiceState) -> bool:
                    return state.last_known_good is None or any(
                        i.status in engine.ACTIVE for i in state.incidents.values()
                    )
            else:

                def need(state: ServiceState) -> bool:
                    return name == "SERVICE_TASK_START_IMPAIRED"

            return self._step(
                ref,
                at,
                redelivered,
                need_snapshot=need,
                create=name != "SERVICE_STEADY_STATE",
                decide=lambda state, snap: engine.apply_service_action(
                    state, name, at, event.detail.reason, snap, self.policy
                ),
            )
        return Outcome("ignored", f"{event.detail_type} is observed, not yet acted on")

    def classify(self, stop: Stop) -> Finding:
        """Classify a stop, asking ECS which containers are essential only when it matters."""
        essential = None
        stopped = [c for c in stop.containers if c.reason or c.exit_code not in (None, 0)]
        if len(stopped) > 1 and self.essential_containers and stop.task_definition_arn:
            essential = self.essential_containers(stop.task_definition_arn)
        return Finding(stop=stop, classification=classify_stop(stop, essential))

    def record_containment(
        self, ref: ServiceRef, incident_id: str, action: str, took_effect: bool, at: datetime
    ) -> Outcome:
        """The seam containment uses: an action on an incident's service, and whether it took effect."""
        return self._step(
            ref,
            at,
            False,
            need_snapshot=lambda state: False,
            decide=lambda state, snap: engine.apply_containment(state, incident_id, action, took_effect, at),
        )

    # ----------------------------------------------------------------------------------------------
    def _task_event(self, event: TaskStateChangeEvent, redelivered: bool) -> Outcome:
        if event.detail.lastStatus != "STOPPED":
            return Outcome("ignored", f"task is {event.detail.lastStatus}, not STOPPED")
        stop = stop_from_event(event)
        if not stop.service:
            return Outcome("ignored", f"standalone task (group {stop.group!r}), not a service task")
        finding = self.classify(stop)
        c = finding.classification
        if not c.failure:
            return Outcome("benign", c.rule, finding)  # benign stops never count: no read, no write
        facts = StopFacts(
            task_id=stop.task_id,
            version=stop.version,
            task_definition=stop.task_definition_arn or "unknown",
            deployment_id=stop.started_by if stop.started_by.startswith("ecs-svc/") else None,
            category=c.category,
            at=stop.stopped_at or event.time,
            summary=c.summary,
            explanation=Explanation(evidence=list(c.evidence), next_steps=list(c.next_steps), runbook=c.runbook),
        )
        confirmed = bool(
            self.probe_confirms and c.category in self.policy.deterministic_categories and self.probe_confirms(finding)
        )
        ref = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name=stop.service)
        outcome = self._step(
            ref,
            facts.at,
            redelivered,
            need_snapshot=lambda state: False,
            decide=lambda state, snap: engine.apply_stop(state, facts, self.policy, confirmed),
        )
        return Outcome(
            outcome.kind if outcome.kind == "transition" else "counted",
            outcome.reason,
            finding,
            outcome.transitions,
            outcome.channels,
        )

    def _step(
        self,
        ref: ServiceRef,
        now: datetime,
        redelivered: bool,
        *,
        need_snapshot: Callable[[ServiceState], bool],
        decide: Callable[[ServiceState, ServiceSnapshot | None], Result],
        create: bool = True,
    ) -> Outcome:
        """Read the service's state, decide, write conditionally; on a lost race, read and decide again."""
        snapshot: ServiceSnapshot | None = None
        looked_up = False
        consistent = False  # whether the state was read from the table, not this container's memory
        for attempt in range(MAX_WRITE_ATTEMPTS):
            consistent = consistent or not self.state.is_cached(ref.key)
            stored = self.state.load_service(ref.key, fresh=consistent)
            if stored is None and not create:
                return Outcome("ignored", "no state for this service and nothing to start it")
            state = stored or ServiceState(service=ref.key)
            fresh = not state.bootstrapped
            if (fresh or need_snapshot(state)) and not looked_up:
                snapshot, looked_up = self.services.snapshot(ref.cluster, ref.name), True
            if fresh:
                # Last known good comes from ECS once, never guessed; a service ECS does not know has none.
                state = (
                    engine.bootstrap(state, snapshot, now)
                    if snapshot
                    else state.model_copy(update={"bootstrapped": True})
                )
            timers = engine.check_timers(state, now, self.policy)
            result = decide(timers.state, snapshot)
            transitions = [*timers.transitions, *result.transitions]
            if not (fresh or timers.changed or result.changed):
                if not consistent:
                    # This container's copy may predate another's write (an incident it has not
                    # seen): "nothing to do" is only concluded on a consistent read.
                    consistent = True
                    continue
                pending = self._announce(ref, state, [], now, redelivered) if redelivered else ()
                return Outcome("ignored", result.note or "nothing changed", channels=pending)
            try:
                saved = self.state.save_service(result.state, now)
            except StaleWrite:
                consistent = True
                self.pause(attempt)
                continue
            if len(saved.outbox) >= engine.MAX_OUTBOX:
                logger.warning(
                    "announcement outbox full: the oldest undelivered transition was dropped",
                    extra={"service": ref.key},
                )
            channels = self._announce(ref, saved, transitions, now, redelivered)
            kind: OutcomeKind = "transition" if transitions else "counted"
            return Outcome(kind, result.note, transitions=tuple(transitions), channels=channels)
        raise RuntimeError(f"{ref.key}: state kept changing under {MAX_WRITE_ATTEMPTS} attempts; retry later")

    # ----------------------------------------------------------------------------------------------
    def _announce(
        self, ref: ServiceRef, state: ServiceState, mine: list[Transition], now: datetime, redelivered: bool
    ) -> tuple[str, ...]:
        """Deliver this invocation's transitions, feed them to the correlated-failure guard, then drop
        them from the outbox. A redelivered record also delivers what a failed attempt left behind:
        entries no newer than its own event (newer ones belong to invocations that may be running)."""
        ids = {t.id for t in mine}
        due = [t for t in state.outbox if t.id in ids or (redelivered and t.at <= now)]
        channels: list[str] = []
        if redelivered:
            channels += self._announce_account_leftovers(ref, now)
        for transition in due:
            paused, account_transitions = self._correlate(ref, transition, now)
            suppressed = paused and transition.kind is TransitionKind.OPENED
            if not suppressed and transition.kind is not TransitionKind.CLOSED:
                channels += self._deliver(
                    ref, transition, functools.partial(self._record_partial, ref, transition, now=now)
                )
            if account_transitions:
                for account_transition in account_transitions:
                    channels += self._deliver(ref, account_transition, lambda sent: None)
                self._acknowledge_account(ref, {t.id for t in account_transitions}, now)
            if transition.kind is TransitionKind.CLOSED:
                self.state.archive_incident(transition.incident)
        if due:
            self._acknowledge(ref, [t.id for t in due], now)
        return tuple(channels)

    def _correlate(self, ref: ServiceRef, transition: Transition, now: datetime) -> tuple[bool, list[Transition]]:
        if transition.kind is TransitionKind.CONTAINED:
            return False, []
        for attempt in range(MAX_WRITE_ATTEMPTS):
            account = self.state.load_account(ref.account_key, fresh=attempt > 0) or AccountState(
                account=ref.account_key
            )
            guarded = correlation.on_service_transition(account, transition, self.policy)
            if guarded.state == account:
                return correlation.containment_paused(account, transition.incident.category), []
            try:
                self.state.save_account(guarded.state, now)
            except StaleWrite:
                self.pause(attempt)
                continue
            return correlation.containment_paused(guarded.state, transition.incident.category), guarded.transitions
        raise RuntimeError(f"{ref.account_key}: correlation state kept changing; retry later")

    def _announce_account_leftovers(self, ref: ServiceRef, now: datetime) -> list[str]:
        account = self.state.load_account(ref.account_key, fresh=True)
        leftovers = [t for t in account.outbox if t.at <= now] if account else []
        channels: list[str] = []
        for transition in leftovers:
            channels += self._deliver(ref, transition, lambda sent: None)
        if leftovers:
            self._acknowledge_account(ref, {t.id for t in leftovers}, now)
        return channels

    def _acknowledge(self, ref: ServiceRef, delivered: list[str], now: datetime) -> None:
        self._update_outbox(ref, now, lambda state: engine.mark_delivered(state, delivered))

    def _record_partial(self, ref: ServiceRef, transition: Transition, sent: list[str], *, now: datetime) -> None:
        """Remember the channels that did take an announcement before another failed, so the retry
        does not send it to them again."""

        def update(state: ServiceState) -> ServiceState:
            outbox = [
                t.model_copy(update={"delivered": sorted({*t.delivered, *sent})}) if t.id == transition.id else t
                for t in state.outbox
            ]
            return state.model_copy(update={"outbox": outbox})

        self._update_outbox(ref, now, update)

    def _update_outbox(self, ref: ServiceRef, now: datetime, change: Callable[[ServiceState], ServiceState]) -> None:
        for attempt in range(MAX_WRITE_ATTEMPTS):
            state = self.state.load_service(ref.key, fresh=attempt > 0)
            if state is None:
                return
            updated = change(state)
            if updated.outbox == state.outbox:
                return
            try:
                self.state.save_service(updated, now)
                return
            except StaleWrite:
                self.pause(attempt)
        # Not lost: the entry stays in the outbox and a redelivery announces it again.
        logger.warning("could not update the announcement outbox", extra={"service": ref.key})

    def _acknowledge_account(self, ref: ServiceRef, delivered: set[str], now: datetime) -> None:
        for attempt in range(MAX_WRITE_ATTEMPTS):
            account = self.state.load_account(ref.account_key, fresh=attempt > 0)
            if account is None or not any(t.id in delivered for t in account.outbox):
                return
            try:
                self.state.save_account(correlation.acknowledge(account, delivered), now)
                return
            except StaleWrite:
                self.pause(attempt)
        logger.warning("could not update the account announcement outbox", extra={"account": ref.account_key})

    def _deliver(self, ref: ServiceRef, transition: Transition, on_partial: Callable[[list[str]], None]) -> list[str]:
        """Send to every configured channel that has not taken this transition yet. When one fails
        after another succeeded, `on_partial` records the successes before the error propagates."""
        sent: list[str] = []
        try:
            if self.sns is not None and "sns" not in transition.delivered:
                attributes = {
                    "transition": str(transition.kind),
                    "kind": str(transition.incident.kind),
                    "category": transition.incident.category or "none",
                    "service": ref.label,
                }
                self.sns.publish(render_transition_sns(transition, ref, self.runbook_base_url), attributes)
                sent.append("sns")
            if self.slack is not None and "slack" not in transition.delivered:
                self.slack.post(render_transition_slack(transition, ref, self.runbook_base_url))
                sent.append("slack")
        except Exception:
            if sent:
                on_partial(sent)
            raise
        logger.info("incident transition announced", extra={"transition": transition.id, "channels": sent})
        return sent
