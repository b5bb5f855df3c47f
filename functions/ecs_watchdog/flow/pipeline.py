"""The one path an ECS event takes: typed event → Stop → Classification → incident transition → messages.

Handlers, the CLI and the simulator all call `Pipeline.process`; it holds no boto3, only the narrow
adapters it is given. The walk is one way: decide for the service → decide for the account (the
correlated-failure guard) → save → deliver → acknowledge (the outbox protocol, `announce/outbox.py`).
Cost per event (asserted in tests/integration/test_incidents.py): a benign stop touches nothing; a
failed stop is one conditional write (plus a read when cold), and a transition adds the account's read
and write and one acknowledgement.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.outbox import Delivery, DeliveryFailed, Outbox, OutboxItem
from ecs_watchdog.announce.updates import send_due_updates
from ecs_watchdog.api_errors.step import ApiErrorStates, announce_api_error
from ecs_watchdog.classify import classify_stop
from ecs_watchdog.conflicts import ReadAgain, backoff, retry_on_conflict, update_with_retry
from ecs_watchdog.contain import claims
from ecs_watchdog.contain.step import Containment, UpdateAccount, UpdateService, action_summary
from ecs_watchdog.diagnose.step import ProbeVerdict
from ecs_watchdog.events import (
    ApiCallErrorEvent,
    DeploymentStateChangeEvent,
    EcsEvent,
    HookStateChangeEvent,
    ServiceActionEvent,
    TaskStateChangeEvent,
    stop_from_event,
)
from ecs_watchdog.gate.pause import DeploymentGate, awaiting
from ecs_watchdog.incidents import correlation
from ecs_watchdog.incidents.action_outcomes import apply_containment
from ecs_watchdog.incidents.contract import ACTIVE, MAX_OUTBOX, Result, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.deployments import apply_deployment_event, bootstrap
from ecs_watchdog.incidents.failed_stops import apply_stop
from ecs_watchdog.incidents.model import Explanation, Incident, ServiceState, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_action_events import apply_service_action
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.incidents.timers import check_timers
from ecs_watchdog.models import Finding, Stop

logger = Logger(child=True)

MAX_QUOTED = 2000  # characters of a stop's summary or evidence line kept in state (items stay far below 400 KB)


class StateStore(Protocol):
    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None: ...
    def is_cached(self, service: str) -> bool: ...
    def save_service(self, state: ServiceState, expires_after: datetime) -> ServiceState: ...
    def load_account(self, account: str, fresh: bool = False) -> AccountState | None: ...
    def save_account(self, state: AccountState, now: datetime) -> AccountState: ...
    def archive_incident(self, incident: Incident) -> None: ...


class ServiceLookup(Protocol):
    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None: ...


EssentialContainers = Callable[[str], frozenset[str] | None]
# A probe's verdict seam: does a read-only check confirm this failure's cause? (probing.py)
ProbeConfirms = Callable[[Finding], ProbeVerdict]

OutcomeKind = Literal["transition", "counted", "benign", "ignored"]


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one event, for logs, metrics, the CLI and the simulator."""

    kind: OutcomeKind
    reason: str
    finding: Finding | None = None
    transitions: tuple[Transition, ...] = ()
    channels: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()  # misconfigured channels that could not take an announcement
    actions: tuple[dict[str, Any], ...] = ()  # containment decisions made on the way (action_summary)
    probes: tuple[dict[str, Any], ...] = ()  # probes run for the stop (name, status, summary, ...)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Pipeline:
    """Processes ECS events with the adapters it is given; `outbox` holds the channels."""

    state: StateStore
    services: ServiceLookup
    outbox: Outbox
    policy: LoopPolicy = field(default_factory=LoopPolicy)
    essential_containers: EssentialContainers | None = None
    probe_confirms: ProbeConfirms | None = None
    home: tuple[str, str] | None = None  # (account, region) this watchdog watches; None: whatever arrives
    containment: Containment | None = None  # None: the watchdog only tells people
    gate: DeploymentGate | None = None  # answers PAUSE lifecycle hooks of services that opt in
    api_errors: ApiErrorStates | None = None  # findings of failed ECS API calls (CloudTrail)
    pause: Callable[[int], None] = backoff  # between optimistic-lock retries

    # ----------------------------------------------------------------------------------------------
    def process(self, event: EcsEvent) -> Outcome:
        """Handle one parsed event. Storage and passing delivery errors propagate (DeliveryFailed after
        recording what did go out), so the caller hands the event back to SQS for a retry."""
        if self.home is not None and (event.account, event.region) != self.home:
            return Outcome(
                "ignored",
                f"event from account {event.account} in {event.region}; this watchdog watches account "
                f"{self.home[0]} in {self.home[1]} (deploy one per account and region)",
            )
        if isinstance(event, TaskStateChangeEvent):
            return self._task_event(event)
        if isinstance(event, DeploymentStateChangeEvent):
            ref = ServiceRef.from_arn(event.service_arn)
            if ref is None:
                return Outcome("ignored", f"deployment event names no service: {event.resources}")
            at = event.detail.updatedAt or event.time
            return self._step(
                ref,
                at,
                need_snapshot=lambda state: True,
                decide=lambda state, snap: apply_deployment_event(
                    state, event.detail.eventName, event.detail.deploymentId, at, event.detail.reason, snap, self.policy
                ),
            )
        if isinstance(event, ServiceActionEvent):
            return self._service_action(event)
        if isinstance(event, ApiCallErrorEvent):
            if self.api_errors is None:
                return Outcome("ignored", "failed ECS API calls are not tracked here")
            done = announce_api_error(event, self.api_errors, self.outbox, event.time, pause=self.pause)
            kind: OutcomeKind = (
                "transition" if done.kind == "finding" else "counted" if done.kind == "counted" else "ignored"
            )
            return Outcome(kind, done.note, channels=done.channels, unavailable=done.unavailable)
        return self._hook(event)

    def tick(self, ref: ServiceRef, now: datetime) -> Outcome:
        """A quiet service's timers (stuck deployments, closing resolved incidents), its leftovers, its
        pending containment and its due count updates, without an event — the sweep's hook. Never
        creates state."""
        outcome = self._step(
            ref,
            now,
            need_snapshot=lambda state: False,
            create=False,
            decide=lambda state, snapshot: Result(state),
        )
        send_due_updates(ref, self._service_item(ref, now), self.outbox.channels, now)
        return outcome

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
            need_snapshot=lambda state: False,
            decide=lambda state, snap: apply_containment(state, incident_id, action, took_effect, at),
        )

    def restore(self, cluster: str, service: str, *, reapply_revision: bool = False) -> dict[str, Any]:
        """Undo the watchdog's last action on a service (the console's and the CLI's `restore`)."""
        if self.containment is None or self.home is None:
            raise LookupError("containment is off (watchdog:mode is notify): the watchdog never acted")
        ref = ServiceRef(account=self.home[0], region=self.home[1], cluster=cluster, name=service)
        record = self.containment.restore(
            ref, self.state.load_service(ref.key, fresh=True), utc_now(), reapply_revision=reapply_revision
        )
        return action_summary(record)

    # ----------------------------------------------------------------------------------------------
    def _hook(self, event: HookStateChangeEvent) -> Outcome:
        """A PAUSE lifecycle hook waiting for an answer: the deployment gate (gate.py) gives it."""
        if not awaiting(event.detail):
            return Outcome("ignored", "a lifecycle hook state that needs no answer")
        if self.gate is None:
            return Outcome("ignored", "the deployment gate is off (watchdog:mode is notify)")
        ref = ServiceRef.from_arn(str(event.detail.get("serviceArn", "")), str(event.detail.get("clusterArn", "")))
        state = self.state.load_service(ref.key, fresh=True) if ref else None
        body = event.model_dump_json(by_alias=True)
        answer = self.gate.answer(dict(event.detail), body, state, self.outbox.clock())
        return Outcome(
            "ignored" if answer.verdict == "skipped" else "counted", f"gate {answer.verdict}: {answer.reason}"
        )

    def _task_event(self, event: TaskStateChangeEvent) -> Outcome:
        if event.detail.lastStatus != "STOPPED":
            return Outcome("ignored", f"task is {event.detail.lastStatus}, not STOPPED")
        stop = stop_from_event(event)
        if not stop.service:
            return Outcome("ignored", f"standalone task (group {stop.group!r}), not a service task")
        finding = self.classify(stop)
        c = finding.classification
        if not c.failure:
            return Outcome("benign", c.rule, finding)  # benign stops never count: no read, no write
        verdict = (
            self.probe_confirms(finding)
            if self.probe_confirms and c.category in self.policy.deterministic_categories
            else None
        )
        facts = StopFacts(
            task_id=stop.task_id,
            version=stop.version,
            task_definition=stop.task_definition_arn or "unknown",
            deployment_id=stop.started_by if stop.started_by.startswith("ecs-svc/") else None,
            category=c.category,
            at=stop.stopped_at or event.time,
            summary=c.summary[:MAX_QUOTED],
            explanation=Explanation(
                evidence=[line[:MAX_QUOTED] for line in c.evidence],
                next_steps=list(c.next_steps),
                runbook=c.runbook,
                probes=list(verdict.results) if verdict else [],
                stopped_task={"task_arn": stop.task_arn, "container": c.container, "log_group": c.log_group},
            ),
        )
        confirmed = bool(verdict and verdict.confirmed)
        ref = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name=stop.service)
        outcome = self._step(
            ref,
            facts.at,
            need_snapshot=lambda state: False,
            decide=lambda state, snap: apply_stop(state, facts, self.policy, confirmed),
        )
        return replace(
            outcome,
            kind="transition" if outcome.kind == "transition" else "counted",
            finding=finding,
            probes=verdict.results if verdict else (),
        )

    def _service_action(self, event: ServiceActionEvent) -> Outcome:
        ref = ServiceRef.from_arn(event.service_arn, event.detail.clusterArn)
        if ref is None:
            return Outcome("ignored", f"service action names no service: {event.resources}")
        at = event.detail.createdAt or event.time
        name = event.detail.eventName
        steady = name == "SERVICE_STEADY_STATE"

        def need(state: ServiceState) -> bool:
            if steady:
                # Periodic and usually uneventful: only worth a DescribeServices when it can change
                # something (an active incident to resolve, or no last known good yet).
                return state.last_known_good is None or any(i.status in ACTIVE for i in state.incidents.values())
            return name in ("SERVICE_TASK_START_IMPAIRED", "SERVICE_TASK_CONFIGURATION_FAILURE")

        return self._step(
            ref,
            at,
            need_snapshot=need,
            create=not steady,
            decide=lambda state, snap: apply_service_action(state, name, at, event.detail.reason, snap, self.policy),
        )

    # ----------------------------------------------------------------------------------------------
    def _step(
        self,
        ref: ServiceRef,
        now: datetime,
        *,
        need_snapshot: Callable[[ServiceState], bool],
        decide: Callable[[ServiceState, ServiceSnapshot | None], Result],
        create: bool = True,
    ) -> Outcome:
        """Decide for the service and save conditionally (on a lost race, read and decide again), then
        announce what this invocation made, with whatever earlier invocations left undelivered."""
        owner = uuid.uuid4().hex
        looked_up: list[ServiceSnapshot | None] = []  # DescribeServices at most once per event

        def attempt(n: int) -> tuple[Outcome, list[Transition], ServiceState | None]:
            fresh = n > 0 or not self.state.is_cached(ref.key)
            stored = self.state.load_service(ref.key, fresh=fresh)
            if stored is None and not create:
                return Outcome("ignored", "no state for this service and nothing to start it"), [], None
            state = stored or ServiceState(service=ref.key)
            first_sight = not state.bootstrapped
            if (first_sight or need_snapshot(state)) and not looked_up:
                looked_up.append(self.services.snapshot(ref.cluster, ref.name))
            snapshot = looked_up[0] if looked_up else None
            if first_sight:
                # Last known good comes from ECS once, never guessed; a service ECS does not know has none.
                state = bootstrap(state, snapshot, now) if snapshot else state.model_copy(update={"bootstrapped": True})
            timers = check_timers(state, now, self.policy)
            result = decide(timers.state, snapshot)
            transitions = [*timers.transitions, *result.transitions]
            changed = first_sight or timers.changed or result.changed
            if not changed and not fresh:
                # This container's copy may predate another's write (an incident it has not seen):
                # "nothing to do" is only concluded on a consistent read.
                raise ReadAgain(ref.key)
            mine = {t.id for t in transitions}
            due = {t.id for t in self.outbox.due(result.state.outbox, self.outbox.clock(), owner)} - mine
            if not changed and not due:
                return Outcome("ignored", result.note or "nothing changed"), [], result.state
            outbox = self.outbox.take(result.state.outbox, mine | due, owner)
            saved = self.state.save_service(result.state.model_copy(update={"outbox": outbox}), now)
            if len(saved.outbox) >= MAX_OUTBOX:
                logger.warning(
                    "announcement outbox full: the oldest undelivered ones give way", extra={"service_key": ref.key}
                )
            kind: OutcomeKind = "transition" if transitions else "counted" if changed else "ignored"
            note = result.note or ("nothing changed" if not changed else "")
            entries = [t for t in saved.outbox if t.id in mine | due]
            return Outcome(kind, note, transitions=tuple(transitions)), entries, saved

        outcome, entries, state = retry_on_conflict(attempt, what=ref.key, pause=self.pause)
        delivery = self._announce(ref, entries, owner, now, state)
        outcome = replace(
            outcome,
            channels=tuple(delivery.channels),
            unavailable=tuple(delivery.unavailable),
            actions=tuple(action_summary(record) for record in delivery.actions),
        )
        if delivery.failed_ids & {t.id for t in outcome.transitions} or delivery.failed_ids & delivery.fresh:
            # What this event made did not reach a channel: SQS retries it (the retry delivers the rest).
            raise DeliveryFailed(f"{ref.label}: " + "; ".join(delivery.failures))
        if delivery.failures:
            # Only leftovers failed again: they stay in the outbox for the next event or the sweep's tick,
            # and this record is done (a channel that stays down does not drive every record to the DLQ).
            logger.warning("earlier announcements still undelivered", extra={"problems": delivery.failures[:5]})
        return outcome

    # ----------------------------------------------------------------------------------------------
    def _announce(
        self, ref: ServiceRef, entries: list[Transition], owner: str, now: datetime, state: ServiceState | None
    ) -> Delivery:
        """Decide for the account, contain, deliver the service's and the account's entries, acknowledge."""
        delivery = Delivery()
        contain = bool(
            self.containment and state and any(claims.needs_containment(i, now) for i in state.incidents.values())
        )
        if not entries and not contain:
            return delivery
        account_entries, announce, account, made = (
            self._decide_account(ref, entries, owner, now) if entries else ([], {}, None, set())
        )
        delivery.fresh |= made
        if contain and self.containment and state:
            try:
                decided = self.containment.run(
                    ref,
                    state,
                    account or self.state.load_account(ref.account_key),
                    owner,
                    now,
                    self._service_updater(ref, now, owner),
                    self._account_updater(ref, now),
                )
            except Exception as error:
                # Telling people never waits on acting: the incident stays undecided and the service's
                # next event tries again.
                logger.error(
                    "containment failed; announcing without it",
                    extra={"service_key": ref.key, "problem": f"{type(error).__name__}: {error}"[:500]},
                )
                delivery.failures_contained.append(f"{type(error).__name__}: {error}"[:500])
                decided = []
            if decided:
                stored = self.state.load_service(ref.key) or state  # this container's copy of its own write
                ids = {t.id for t in entries} | {t.id for d in decided for t in d.transitions}
                delivery.fresh |= {t.id for d in decided for t in d.transitions}
                entries = [t for t in stored.outbox if t.id in ids]
                delivery.actions.extend(d.record for d in decided)
                if any(not d.record.action.notify_people for d in decided):
                    state = stored.model_copy(update={"action_tag": "ignore"})
        silenced = state is not None and state.action_tag == "ignore"
        service_done: set[str] = set()
        for transition in entries:
            if transition.kind is TransitionKind.CLOSED:
                self.state.archive_incident(transition.incident)  # closing is kept, never announced
                service_done.add(transition.id)
            elif not announce.get(transition.id, True) or silenced:
                service_done.add(transition.id)  # covered by the account incident, or the service opted out
            else:
                sent = self.outbox.deliver(transition, ref)
                delivery.add(sent)
                if self.outbox.complete(transition, sent.taken[transition.id]):
                    service_done.add(transition.id)
        account_done: set[str] = set()
        for transition in account_entries:
            sent = self.outbox.deliver(transition, ref)
            delivery.add(sent)
            if self.outbox.complete(transition, sent.taken[transition.id]):
                account_done.add(transition.id)
        if len(account_done) < len(account_entries):
            # The service's entries stay until the account's are out: whoever takes them next (a
            # retry, a later event, a redrive) also takes the account's leftovers.
            service_done = set()
        if entries:
            service_taken = {t.id: delivery.taken.get(t.id, set()) for t in entries}
            self.outbox.acknowledge(self._service_item(ref, now), service_taken, service_done, owner)
        if account_entries:
            account_taken = {t.id: delivery.taken.get(t.id, set()) for t in account_entries}
            self.outbox.acknowledge(self._account_item(ref, now), account_taken, account_done, owner)
        return delivery

    def _decide_account(
        self, ref: ServiceRef, entries: list[Transition], owner: str, now: datetime
    ) -> tuple[list[Transition], dict[str, bool], AccountState | None, set[str]]:
        """Run the correlated-failure guard for these service transitions (idempotent per transition) and
        lease its new transitions, and any it left undelivered before, to this invocation. Returns the
        leased entries, whether each service transition is announced, the account, and the new ids."""
        decided: dict[str, Any] = {}

        def change(account: AccountState) -> AccountState | None:
            decision = correlation.decide(account, entries, self.policy)
            ids = {t.id for t in decision.transitions}
            ids |= {t.id for t in self.outbox.due(account.outbox, self.outbox.clock(), owner)}
            decided.update(
                announce=decision.announce, ids=ids, state=decision.state, made={t.id for t in decision.transitions}
            )
            if not (decision.changed or ids):
                return None
            return decision.state.model_copy(update={"outbox": self.outbox.take(decision.state.outbox, ids, owner)})

        item = self._account_item(ref, now)
        saved = update_with_retry(
            lambda fresh: item.load(fresh) or AccountState(account=ref.account_key),
            change,
            item.save,
            what=item.what,
            pause=self.pause,
        )
        leased = [t for t in (saved.outbox if saved else []) if t.id in decided["ids"]]
        return leased, decided["announce"], saved, decided["made"]

    def _service_updater(self, ref: ServiceRef, now: datetime, owner: str) -> UpdateService:
        """Apply an engine change to the stored service state (retried on conflict); its new transitions
        are leased to this invocation."""

        def update(change: Callable[[ServiceState], Result]) -> tuple[ServiceState, list[Transition]]:
            made: set[str] = set()

            def apply(doc: ServiceState) -> ServiceState | None:
                made.clear()
                result = change(doc)
                if not result.changed:
                    return None
                made.update(t.id for t in result.transitions)
                return result.state.model_copy(update={"outbox": self.outbox.take(result.state.outbox, made, owner)})

            item = self._service_item(ref, now)
            saved = update_with_retry(item.load, apply, item.save, what=item.what, pause=self.pause)
            if saved is None:
                raise RuntimeError(f"{ref.key}: service state vanished while containing")
            return saved, [t for t in saved.outbox if t.id in made]

        return update

    def _account_updater(self, ref: ServiceRef, now: datetime) -> UpdateAccount:
        def update(change: Callable[[AccountState], AccountState | None]) -> AccountState | None:
            item = self._account_item(ref, now)
            return update_with_retry(
                lambda fresh: item.load(fresh) or AccountState(account=ref.account_key),
                change,
                item.save,
                what=item.what,
                pause=self.pause,
            )

        return update

    def _service_item(self, ref: ServiceRef, now: datetime) -> OutboxItem[ServiceState]:
        return OutboxItem(
            load=lambda fresh: self.state.load_service(ref.key, fresh=fresh),
            save=lambda doc: self.state.save_service(doc, now),
            what=ref.key,
        )

    def _account_item(self, ref: ServiceRef, now: datetime) -> OutboxItem[AccountState]:
        return OutboxItem(
            load=lambda fresh: self.state.load_account(ref.account_key, fresh=fresh),
            save=lambda doc: self.state.save_account(doc, now),
            what=ref.account_key,
        )
