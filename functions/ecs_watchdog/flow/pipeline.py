"""The one path an ECS event takes: typed event → Stop → Classification → incident transition → messages.

Handlers, the CLI and the simulator all call `Pipeline.process`; it holds no boto3, only the narrow
adapters it is given. A failed stop, a deployment event, a service action and the sweep's tick each
become a `ServiceChange` (how to decide for the service; flow/changes.py), and every change walks the
same five steps, top to bottom in `Pipeline._walk` (PAUSE hooks go to gate/, failed API calls to
api_errors/):

1. decide for the service — load, decide (incidents/), save conditionally; a lost race decides again;
2. decide for the account — the correlated-failure guard (incidents/correlation.py), and in
   organization mode across the accounts (incidents/correlation_organization.py);
3. contain — the containment step (contain/step.py), when an open incident is due;
4. deliver — each leased entry to each channel that has not taken it (announce/outbox.py);
5. acknowledge — one write per item records what went out.

Cost per event (asserted in tests/integration/test_incidents.py): a benign stop touches nothing; a
failed stop is one conditional write (plus a read when cold), and a transition adds the account's read
and write and one acknowledgement.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.announce.outbox import Delivery, DeliveryFailed, Outbox
from ecs_watchdog.announce.updates import send_due_updates
from ecs_watchdog.approvals import marks
from ecs_watchdog.classify import classify_stop
from ecs_watchdog.classify.categories import PLATFORM
from ecs_watchdog.conflicts import ReadAgain, backoff, retry_on_conflict
from ecs_watchdog.contain import claims
from ecs_watchdog.contain.step import Containment, action_summary
from ecs_watchdog.diagnose.step import ProbeVerdict
from ecs_watchdog.events import (
    ApiCallErrorEvent,
    ContainerInstanceHealthEvent,
    DeploymentStateChangeEvent,
    EcsEvent,
    HookStateChangeEvent,
    ServiceActionEvent,
    TaskStateChangeEvent,
    stop_from_event,
)
from ecs_watchdog.flow.changes import (
    RevisionPreflight,
    ServiceChange,
    containment_change,
    deployment_change,
    service_action_change,
    stop_change,
    stop_facts,
    tick_change,
)
from ecs_watchdog.flow.state_items import (
    StateStore,
    account_item,
    account_updater,
    mark_undone,
    organization_item,
    organization_updater,
    service_item,
    service_updater,
)
from ecs_watchdog.incidents import correlation, correlation_organization
from ecs_watchdog.incidents.contract import MAX_OUTBOX, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import OrganizationState
from ecs_watchdog.incidents.deployments import bootstrap
from ecs_watchdog.incidents.failed_stops import EarlyEvidence
from ecs_watchdog.incidents.infrastructure import (
    ClusterInfrastructure,
    InfrastructureDecision,
    apply_instance_health,
    apply_platform_failure,
)
from ecs_watchdog.incidents.model import ServiceState, Transition, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.incidents.timers import check_timers
from ecs_watchdog.models import Finding, Stop

if TYPE_CHECKING:
    from ecs_watchdog.api_errors.step import ApiErrorStates
    from ecs_watchdog.gate.pause import DeploymentGate

logger = Logger(child=True)


class ServiceLookup(Protocol):
    def snapshot(self, cluster: str, service: str) -> ServiceSnapshot | None: ...


EssentialContainers = Callable[[str], frozenset[str] | None]
# A probe's verdict seam: does a read-only check confirm this failure's cause? (diagnose/step.py)
ProbeConfirms = Callable[[Finding], ProbeVerdict]
# The services (names) with tasks on a container instance: (cluster, container instance ARN) → names
# (aws/instance_tasks.py: ListTasks + DescribeTasks).
InstanceServices = Callable[[str, str], list[str]]

OutcomeKind = Literal["transition", "counted", "benign", "ignored"]


class OtherAccounts(Protocol):
    """The pipelines of member accounts (flow/accounts.py)."""

    def process(self, event: EcsEvent) -> Outcome: ...
    def tick(self, ref: ServiceRef, now: datetime) -> Outcome: ...


@dataclass(frozen=True)
class Outcome:
    """What the pipeline did with one event, for logs, metrics, the CLI and the simulator."""

    kind: OutcomeKind
    reason: str
    finding: Finding | None = None
    transitions: tuple[Transition, ...] = ()
    channels: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()  # misconfigured channels that could not take an announcement
    deferred: tuple[str, ...] = ()  # one channel per announcement kept for later (channel down, or no time left)
    actions: tuple[dict[str, Any], ...] = ()  # containment decisions made on the way (action_summary)
    probes: tuple[dict[str, Any], ...] = ()  # probes run for the stop (name, status, summary, ...)
    hook_answer: tuple[str, str] | None = None  # a PAUSE hook event's (verdict, result): gate/pause.py


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ServiceDecision:
    """Step 1's result: the outcome so far, the service's entries leased to this invocation, its state."""

    outcome: Outcome
    entries: list[Transition]
    state: ServiceState | None


@dataclass(frozen=True)
class AccountDecision:
    """Step 2's result: the account's leased entries, whether each service transition is announced on
    its own (False: the account incident covers it), the stored account, and the ids made now."""

    entries: list[Transition] = field(default_factory=list)
    announce: dict[str, bool] = field(default_factory=dict)
    state: AccountState | None = None
    made: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class OrganizationDecision:
    """Step 2 across accounts (organization mode): the organization item's leased entries, whether each
    service and account transition is announced on its own (False: the organization incident covers
    it), the stored item, and the ids made now."""

    entries: list[Transition] = field(default_factory=list)
    announce: dict[str, bool] = field(default_factory=dict)
    state: OrganizationState | None = None
    made: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Delivered:
    """Step 4's result: the entries of each item that no channel still owes."""

    service: set[str]
    account: set[str]
    organization: set[str] = field(default_factory=set)


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
    members: OtherAccounts | None = None  # organization mode: other accounts' events, each in its own account
    # Organization mode (the hub's and every member's pipeline): the hub's account/region, whose item holds
    # the correlated-failure guard across accounts. None: a single stack, the guard is per account only.
    organization: str | None = None
    containment: Containment | None = None  # None: the watchdog only tells people
    gate: DeploymentGate | None = None  # answers PAUSE lifecycle hooks of services that opt in
    preflight: RevisionPreflight | None = None  # checks a new deployment's revision (flow/changes.py)
    api_errors: ApiErrorStates | None = None  # findings of failed ECS API calls (CloudTrail)
    instance_services: InstanceServices | None = None  # who runs on an impaired instance; None: not named
    pause: Callable[[int], None] = backoff  # between optimistic-lock retries

    # -- entry points -------------------------------------------------------------------------------
    def process(self, event: EcsEvent) -> Outcome:
        """Handle one parsed event. Storage and passing delivery errors propagate (DeliveryFailed after
        recording what did go out), so the caller hands the event back to SQS for a retry."""
        if self.home is not None and (event.account, event.region) != self.home:
            if self.members is not None and event.region == self.home[1]:
                return self.members.process(event)
            return Outcome(
                "ignored",
                f"event from account {event.account} in {event.region}; this watchdog watches account "
                f"{self.home[0]} in {self.home[1]} (deploy one per account and region)",
            )
        if isinstance(event, TaskStateChangeEvent):
            return self._task_event(event)
        if isinstance(event, DeploymentStateChangeEvent):
            change = deployment_change(event, self.policy, self.preflight)
            if change is None:
                return Outcome("ignored", f"deployment event names no service: {event.resources}")
            return self._walk(change)
        if isinstance(event, ServiceActionEvent):
            change = service_action_change(event, self.policy)
            if change is None:
                return Outcome("ignored", f"service action names no service: {event.resources}")
            return self._walk(change)
        if isinstance(event, ApiCallErrorEvent):
            return self._api_error(event)
        if isinstance(event, ContainerInstanceHealthEvent):
            return self._instance_health(event)
        return self._hook(event)

    def tick(self, ref: ServiceRef, now: datetime) -> Outcome:
        """A quiet service's timers (stuck deployments, closing resolved incidents), its leftovers, its
        pending containment and its due count updates, without an event — the sweep's hook. Never
        creates state."""
        if self.home is not None and (ref.account, ref.region) != self.home:
            # Organization mode: a member's service is looked up only through its own role (flow/accounts.py).
            if self.members is not None and ref.region == self.home[1]:
                return self.members.tick(ref, now)
            return Outcome("ignored", f"{ref.key}: not this watchdog's account and region, nor a member's")
        outcome = self._walk(tick_change(ref, now))
        send_due_updates(ref, service_item(self.state, ref, now), self.outbox.channels, now, self.outbox.budget)
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
        return self._walk(containment_change(ref, incident_id, action, took_effect, at))

    def restore(self, cluster: str, service: str, *, reapply_revision: bool = False) -> dict[str, Any]:
        """Undo the watchdog's last action on a service (the console's and the CLI's `restore`)."""
        if self.containment is None or self.home is None:
            raise LookupError("containment is off (watchdog:mode is notify): the watchdog never acted")
        ref = ServiceRef(account=self.home[0], region=self.home[1], cluster=cluster, name=service)
        now = utc_now()
        record = self.containment.restore(
            ref, self.state.load_service(ref.key, fresh=True), now, reapply_revision=reapply_revision
        )
        # The person's call from now on: no second action on the incident, no gate against their revision.
        problem = mark_undone(self.state, ref, record, now)
        summary = action_summary(record)
        if problem:
            logger.error("restore not recorded as the person's", extra={"service_key": ref.key, "problem": problem})
            summary["warning"] = problem
        return summary

    def _early(self, stop: Stop, facts: StopFacts) -> EarlyEvidence | None:
        """Containment's look at the service's tasks before the threshold (contain/transient.py)."""
        containment = self.containment
        if containment is None:
            return None
        ref = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name=stop.service)

        def early(state: ServiceState) -> str | None:
            replaced = state.last_known_good not in (None, facts.task_definition)
            return containment.nothing_survived(
                ref,
                facts.task_definition,
                stop.task_arn,
                facts.at,
                deployment=facts.deployment_id,
                replaced_healthy=replaced,
                action_tag=state.action_tag,
            )

        return early

    # -- events that need more than a change: a stop is classified first; API errors and hooks --------
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
        facts = stop_facts(stop, finding, verdict, event.time)
        outcome = self._walk(
            stop_change(stop, facts, self.policy, bool(verdict and verdict.confirmed), self._early(stop, facts))
        )
        if c.cause == PLATFORM:
            # Never the service's failure loop (incidents/failed_stops.py); the cluster's infrastructure incident.
            cluster = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name="*")
            infrastructure = self._infrastructure(
                cluster,
                facts.at,
                lambda memory: apply_platform_failure(
                    memory,
                    cluster.account_key,
                    service=f"{stop.cluster}/{stop.service}",
                    category=c.category,
                    task_id=stop.task_id,
                    at=facts.at,
                    summary=facts.summary,
                    policy=self.policy,
                ),
            )
            outcome = _joined(outcome, infrastructure)
        return replace(
            outcome,
            kind="transition" if outcome.kind == "transition" else "counted",
            finding=finding,
            probes=verdict.results if verdict else (),
        )

    def _api_error(self, event: ApiCallErrorEvent) -> Outcome:
        """A failed ECS API call (CloudTrail): its own finding and store (api_errors/)."""
        if self.api_errors is None:
            return Outcome("ignored", "failed ECS API calls are not tracked here")
        # Here, not at the top: api_errors/ loads on the first failed API call, not at every cold start.
        from ecs_watchdog.api_errors.step import announce_api_error

        done = announce_api_error(event, self.api_errors, self.outbox, event.time, pause=self.pause)
        kind: OutcomeKind = (
            "transition" if done.kind == "finding" else "counted" if done.kind == "counted" else "ignored"
        )
        return Outcome(kind, done.note, channels=done.channels, unavailable=done.unavailable)

    def _instance_health(self, event: ContainerInstanceHealthEvent) -> Outcome:
        """A container instance's health changed: the cluster's infrastructure incident (never a rollback)."""
        detail = event.detail
        cluster = ServiceRef(account=event.account, region=event.region, cluster=event.cluster, name="*")
        services: list[str] = []
        if detail.overallStatus == "IMPAIRED" and self.instance_services is not None:
            names = self.instance_services(detail.clusterArn, detail.containerInstanceArn)
            services = [f"{event.cluster}/{name}" for name in names]
        return self._infrastructure(
            cluster,
            event.time,
            lambda memory: apply_instance_health(
                memory,
                cluster.account_key,
                instance_arn=detail.containerInstanceArn,
                ec2_instance_id=detail.ec2InstanceId,
                status=detail.overallStatus,
                services=services,
                checks=detail.failing_checks(),
                at=event.time,
                policy=self.policy,
            ),
        )

    def _infrastructure(
        self, cluster: ServiceRef, now: datetime, decide: Callable[[ClusterInfrastructure], InfrastructureDecision]
    ) -> Outcome:
        """Decide for the cluster's infrastructure incident (kept in the account's item) → deliver →
        acknowledge, the way the account's correlated incidents go out."""
        owner = uuid.uuid4().hex
        decided: dict[str, Any] = {"ids": set(), "made": set(), "note": "", "transitions": []}

        def change(account: AccountState) -> AccountState | None:
            decision = decide(account.clusters.get(cluster.cluster) or ClusterInfrastructure(cluster=cluster.cluster))
            made = {t.id for t in decision.transitions}
            ids = made | {t.id for t in self.outbox.due(account.outbox, self.outbox.clock(), owner)}
            decided.update(
                ids=ids, made=made, note=decision.note, transitions=decision.transitions, changed=decision.changed
            )
            if not (decision.changed or ids):
                return None
            outbox = self.outbox.take([*account.outbox, *decision.transitions], ids, owner)
            clusters = {**account.clusters, cluster.cluster: decision.cluster}
            return account.model_copy(update={"clusters": clusters, "outbox": outbox})

        saved = account_updater(self.state, cluster, now, self.pause)(change)
        leased = [t for t in (saved.outbox if saved else []) if t.id in decided["ids"]]
        transitions = tuple(decided["transitions"])
        kind: OutcomeKind = "transition" if transitions else "counted" if decided.get("changed") else "ignored"
        outcome = Outcome(kind, decided["note"], transitions=transitions)
        service = ServiceDecision(outcome, [], None)
        delivery = Delivery()
        delivery.fresh |= decided["made"]
        if leased:
            account = AccountDecision(leased, {}, saved, decided["made"])
            done = self._deliver(cluster, service, account, delivery)
            self._acknowledge(cluster, service, account, done, delivery, owner, now)
        return self._answer(cluster, outcome, delivery)

    def _hook(self, event: HookStateChangeEvent) -> Outcome:
        """A PAUSE lifecycle hook waiting for an answer: the deployment gate (gate/pause.py) gives it."""
        # Here, not at the top: gate/ loads on the first hook event, not at every cold start.
        from ecs_watchdog.gate.pause import awaiting

        if not awaiting(event.detail):
            return Outcome("ignored", "a lifecycle hook state that needs no answer")
        if self.gate is None:
            return Outcome("ignored", "the deployment gate is off (watchdog:mode is notify)")
        ref = ServiceRef.from_arn(str(event.detail.get("serviceArn", "")), str(event.detail.get("clusterArn", "")))
        state = self.state.load_service(ref.key, fresh=True) if ref else None
        body = event.model_dump_json(by_alias=True)
        answer = self.gate.answer(dict(event.detail), body, state, self.outbox.clock())
        return Outcome(
            "ignored" if answer.needs_nothing else "counted",
            f"gate {answer.verdict}: {answer.reason}",
            hook_answer=(answer.verdict, answer.result),
        )

    # -- the walk -----------------------------------------------------------------------------------
    def _walk(self, change: ServiceChange) -> Outcome:
        """Decide for the service → decide for the account → contain → deliver → acknowledge; then say
        what happened (a failure to deliver what this event made sends it back to SQS)."""
        owner = uuid.uuid4().hex
        ref, now = change.ref, change.at
        service = self._decide_for_service(change, owner)
        delivery = Delivery()
        containment_due = self._containment_due(service.state, now)
        if service.entries or containment_due:
            account = (
                self._decide_for_account(ref, service.entries, owner, now) if service.entries else AccountDecision()
            )
            across = (
                self._decide_for_organization(service.entries, account, owner, now)
                if service.entries and self.organization
                else OrganizationDecision()
            )
            delivery.fresh |= account.made | across.made
            if containment_due:
                held = self._held_by_organization(ref, account.state, across.state)
                service = self._contain(ref, service, held, owner, now, delivery)
            done = self._deliver(ref, service, account, delivery, across)
            self._acknowledge(ref, service, account, done, delivery, owner, now, across)
        return self._answer(ref, service.outcome, delivery)

    def _decide_for_service(self, change: ServiceChange, owner: str) -> ServiceDecision:
        """Step 1. Decide for the service and save conditionally (on a lost race, read and decide again);
        what it makes, and what earlier invocations left undelivered, is leased to `owner`."""
        looked_up: list[ServiceSnapshot | None] = []  # DescribeServices at most once per event
        return retry_on_conflict(
            lambda n: self._decide_once(change, owner, n, looked_up), what=change.ref.key, pause=self.pause
        )

    def _decide_once(
        self, change: ServiceChange, owner: str, attempt: int, looked_up: list[ServiceSnapshot | None]
    ) -> ServiceDecision:
        ref, now = change.ref, change.at
        fresh = attempt > 0 or not self.state.is_cached(ref.key)
        stored = self.state.load_service(ref.key, fresh=fresh)
        if stored is None and not change.create:
            return ServiceDecision(Outcome("ignored", "no state for this service and nothing to start it"), [], None)
        state = stored or ServiceState(service=ref.key)
        first_sight = not state.bootstrapped
        if (first_sight or change.need_snapshot(state)) and not looked_up:
            looked_up.append(self.services.snapshot(ref.cluster, ref.name))
        snapshot = looked_up[0] if looked_up else None
        if first_sight:
            # Last known good comes from ECS once, never guessed; a service ECS does not know has none.
            state = bootstrap(state, snapshot, now) if snapshot else state.model_copy(update={"bootstrapped": True})
        timers = check_timers(state, now, self.policy)
        result = change.decide(timers.state, snapshot)
        transitions = [*timers.transitions, *result.transitions]
        changed = first_sight or timers.changed or result.changed
        if not changed and not fresh:
            # This container's copy may predate another's write (an incident it has not seen):
            # "nothing to do" is only concluded on a consistent read.
            raise ReadAgain(ref.key)
        mine = {t.id for t in transitions}
        due = {t.id for t in self.outbox.due(result.state.outbox, self.outbox.clock(), owner)} - mine
        if not changed and not due:
            return ServiceDecision(Outcome("ignored", result.note or "nothing changed"), [], result.state)
        outbox = self.outbox.take(result.state.outbox, mine | due, owner)
        saved = self.state.save_service(result.state.model_copy(update={"outbox": outbox}), now)
        if len(saved.outbox) >= MAX_OUTBOX:
            logger.warning(
                "announcement outbox full: the oldest undelivered ones give way", extra={"service_key": ref.key}
            )
        kind: OutcomeKind = "transition" if transitions else "counted" if changed else "ignored"
        note = result.note or ("nothing changed" if not changed else "")
        entries = [t for t in saved.outbox if t.id in mine | due]
        return ServiceDecision(Outcome(kind, note, transitions=tuple(transitions)), entries, saved)

    def _decide_for_account(
        self, ref: ServiceRef, entries: list[Transition], owner: str, now: datetime
    ) -> AccountDecision:
        """Step 2. Run the correlated-failure guard for these service transitions (idempotent per
        transition) and lease its new transitions, and any it left undelivered before, to `owner`."""
        decided: dict[str, Any] = {}

        def change(account: AccountState) -> AccountState | None:
            decision = correlation.decide(account, entries, self.policy)
            ids = {t.id for t in decision.transitions}
            ids |= {t.id for t in self.outbox.due(account.outbox, self.outbox.clock(), owner)}
            decided.update(announce=decision.announce, ids=ids, made={t.id for t in decision.transitions})
            if not (decision.changed or ids):
                return None
            return decision.state.model_copy(update={"outbox": self.outbox.take(decision.state.outbox, ids, owner)})

        saved = account_updater(self.state, ref, now, self.pause)(change)
        leased = [t for t in (saved.outbox if saved else []) if t.id in decided["ids"]]
        return AccountDecision(leased, decided["announce"], saved, decided["made"])

    def _decide_for_organization(
        self, entries: list[Transition], account: AccountDecision, owner: str, now: datetime
    ) -> OrganizationDecision:
        """Step 2 across accounts: the same transitions, and the account incidents' ones, through the guard
        of the whole organization (idempotent per transition); its new transitions, and any it left
        undelivered before, are leased to `owner`. Two accounts' pipelines race on this item: the write is
        conditional and a lost race decides again."""
        assert self.organization is not None  # organization mode, as _walk checked
        transitions = [*entries, *account.entries]
        decided: dict[str, Any] = {}

        def change(organization: OrganizationState) -> OrganizationState | None:
            decision = correlation_organization.decide(organization, transitions, self.policy)
            ids = {t.id for t in decision.transitions}
            ids |= {t.id for t in self.outbox.due(organization.outbox, self.outbox.clock(), owner)}
            decided.update(announce=decision.announce, ids=ids, made={t.id for t in decision.transitions})
            if not (decision.changed or ids):
                return None
            return decision.state.model_copy(update={"outbox": self.outbox.take(decision.state.outbox, ids, owner)})

        saved = organization_updater(self.state, self.organization, now, self.pause)(change)
        leased = [t for t in (saved.outbox if saved else []) if t.id in decided["ids"]]
        return OrganizationDecision(leased, decided["announce"], saved, decided["made"])

    def _held_by_organization(
        self, ref: ServiceRef, account: AccountState | None, organization: OrganizationState | None
    ) -> AccountState | None:
        """The account as containment sees it: in organization mode, with the categories an organization
        incident pauses containment for (never stored)."""
        if self.organization is None:
            return account
        organization = organization or self.state.load_organization(self.organization)
        held = correlation_organization.paused_categories(organization)
        if not held:
            return account
        account = account or self.state.load_account(ref.account_key) or AccountState(account=ref.account_key)
        return account.model_copy(update={"held_by_organization": held})

    def _organization_ref(self) -> ServiceRef:
        """Where an organization incident's messages say it is: the hub's region (no one cluster or service)."""
        assert self.organization is not None
        hub, region = self.organization.split("/", 1)
        return ServiceRef(account=hub, region=region, cluster="*", name="*")

    def _containment_due(self, state: ServiceState | None, now: datetime) -> bool:
        return bool(
            self.containment
            and state
            and any(claims.needs_containment(i, now, self.outbox.clock()) for i in state.incidents.values())
        )

    def _contain(
        self,
        ref: ServiceRef,
        service: ServiceDecision,
        account: AccountState | None,
        owner: str,
        now: datetime,
        delivery: Delivery,
    ) -> ServiceDecision:
        """Step 3. Containment decides (and acts) for the service's due incidents; what it records joins
        this invocation's entries. Telling people never waits on acting: on an error the incident stays
        undecided and the service's next event tries again."""
        assert self.containment is not None and service.state is not None  # _containment_due said so
        try:
            decided = self.containment.run(
                ref,
                service.state,
                account or self.state.load_account(ref.account_key),
                owner,
                now,
                service_updater(self.state, self.outbox, ref, now, owner, self.pause),
                account_updater(self.state, ref, now, self.pause),
            )
        except Exception as error:
            problem = f"{type(error).__name__}: {error}"[:500]
            logger.error(  # the subject in the line itself: outside Lambda it may be printed without extras
                f"containment of {ref.cluster}/{ref.name} failed; announcing without it: {problem}",
                extra={"service_key": ref.key, "problem": problem},
            )
            delivery.failures_contained.append(problem)
            return service
        if not decided:
            return service
        stored = self.state.load_service(ref.key) or service.state  # this container's copy of its own write
        made = {t.id for d in decided for t in d.transitions}
        delivery.fresh |= made
        delivery.actions.extend(d.record for d in decided)
        state = service.state
        if any(not d.record.action.notify_people for d in decided):
            state = stored.model_copy(update={"action_tag": "ignore"})
        ids = {t.id for t in service.entries} | made
        entries = [t for t in stored.outbox if t.id in ids]
        return replace(service, entries=entries, state=state)

    def _deliver(
        self,
        ref: ServiceRef,
        service: ServiceDecision,
        account: AccountDecision,
        delivery: Delivery,
        across: OrganizationDecision | None = None,
    ) -> Delivered:
        """Step 4. Send the service's entries (a closing is archived, never announced; one the account or
        organization incident covers, or of a service tagged `ignore`, needs no message), then the
        account's (unless the organization incident speaks for them), then the organization's."""
        across = across or OrganizationDecision()
        silenced = service.state is not None and service.state.action_tag == "ignore"
        service_done: set[str] = set()

        def announced(transition_id: str) -> bool:
            return account.announce.get(transition_id, True) and across.announce.get(transition_id, True)

        openings = {
            contained: opened
            for contained, opened in _openings_contained(service.entries).items()
            if announced(contained) and announced(opened)
        }
        for transition in service.entries:
            if transition.kind is TransitionKind.CLOSED:
                self.state.archive_incident(transition.incident)
                service_done.add(transition.id)
            elif not announced(transition.id) or silenced:
                service_done.add(transition.id)  # covered by the account or organization incident, or opted out
            elif self._muted(transition, service.state):
                service_done.add(transition.id)  # silenced from Slack: recorded, delivered as silenced
            elif transition.id in openings.values():
                continue  # said together with its containment, below
            elif transition.id in openings:
                opened = next(t for t in service.entries if t.id == openings[transition.id])
                service_done |= self._send_together(opened, transition, ref, delivery)
            elif self._send(transition, ref, delivery):
                service_done.add(transition.id)
        account_done = {
            t.id for t in account.entries if not across.announce.get(t.id, True) or self._send(t, ref, delivery)
        }
        organization_done = {t.id for t in across.entries if self._send(t, self._organization_ref(), delivery)}
        if len(account_done) < len(account.entries) or len(organization_done) < len(across.entries):
            # The service's entries stay until the account's and the organization's are out: whoever takes
            # them next (a retry, a later event, a redrive) also takes those leftovers.
            service_done = set()
        return Delivered(service_done, account_done, organization_done)

    def _muted(self, transition: Transition, state: ServiceState | None) -> bool:
        current = state.incidents.get(transition.incident.id) if state else None
        if not marks.muted(transition, current, self.outbox.clock()):
            return False
        logger.info("announcement silenced from Slack", extra={"transition": transition.id})
        return True

    def _send_together(
        self, opened: Transition, contained: Transition, ref: ServiceRef, delivery: Delivery
    ) -> set[str]:
        """Deliver an incident's opening and containment, one message where a channel cannot edit; the ids
        no channel owes any more."""
        sent = self.outbox.deliver_together(opened, contained, ref)
        delivery.add(sent)
        return {t.id for t in (opened, contained) if self.outbox.complete(t, sent.taken[t.id])}

    def _send(self, transition: Transition, ref: ServiceRef, delivery: Delivery) -> bool:
        """Deliver one entry to the channels that still owe it; True when none does any more."""
        sent = self.outbox.deliver(transition, ref)
        delivery.add(sent)
        return self.outbox.complete(transition, sent.taken[transition.id])

    def _acknowledge(
        self,
        ref: ServiceRef,
        service: ServiceDecision,
        account: AccountDecision,
        done: Delivered,
        delivery: Delivery,
        owner: str,
        now: datetime,
        across: OrganizationDecision | None = None,
    ) -> None:
        """Step 5. One write per item: delivered entries leave its outbox, the rest are released with the
        channels that took them."""
        if service.entries:
            taken = {t.id: delivery.taken.get(t.id, set()) for t in service.entries}
            self.outbox.acknowledge(service_item(self.state, ref, now), taken, done.service, owner)
        if account.entries:
            taken = {t.id: delivery.taken.get(t.id, set()) for t in account.entries}
            self.outbox.acknowledge(account_item(self.state, ref, now), taken, done.account, owner)
        if across and across.entries and self.organization:
            taken = {t.id: delivery.taken.get(t.id, set()) for t in across.entries}
            item = organization_item(self.state, self.organization, now)
            self.outbox.acknowledge(item, taken, done.organization, owner)

    def _answer(self, ref: ServiceRef, outcome: Outcome, delivery: Delivery) -> Outcome:
        """The outcome with what went out; raises DeliveryFailed when what this event made did not reach
        a channel (SQS retries it, and the retry delivers the rest). A deferred entry (its channel down,
        or no time left) is no failure: it waits in the outbox for the next event or the sweep's tick."""
        outcome = replace(
            outcome,
            channels=tuple(delivery.channels),
            unavailable=tuple(delivery.unavailable),
            deferred=tuple(delivery.deferred),
            actions=tuple(action_summary(record) for record in delivery.actions),
        )
        if delivery.failed_ids & {t.id for t in outcome.transitions} or delivery.failed_ids & delivery.fresh:
            raise DeliveryFailed(f"{ref.label}: " + "; ".join(delivery.failures))
        if delivery.failures:
            # Only leftovers failed again: they stay in the outbox for the next event or the sweep's tick,
            # and this record is done (a channel that stays down does not drive every record to the DLQ).
            logger.warning("earlier announcements still undelivered", extra={"problems": delivery.failures[:5]})
        return outcome


def _openings_contained(entries: list[Transition]) -> dict[str, str]:
    """containment id → the id of its incident's opening, where both are among `entries` (an incident
    contained in the invocation that opened it, or whose opening is still undelivered)."""
    opening: dict[str, str] = {}
    pairs: dict[str, str] = {}
    for t in entries:
        if t.kind in (TransitionKind.OPENED, TransitionKind.REOPENED):
            opening[t.incident.id] = t.id
        elif t.kind is TransitionKind.CONTAINED and t.incident.id in opening:
            pairs[t.id] = opening.pop(t.incident.id)
    return pairs


def _joined(service: Outcome, infrastructure: Outcome) -> Outcome:
    """A platform stop's outcome: what its service's state did, and what the cluster's infrastructure did."""
    transitions = service.transitions + infrastructure.transitions
    return replace(
        service,
        kind="transition" if transitions else service.kind,
        reason="; ".join(r for r in (service.reason, infrastructure.reason) if r),
        transitions=transitions,
        channels=service.channels + infrastructure.channels,
        unavailable=service.unavailable + infrastructure.unavailable,
        deferred=service.deferred + infrastructure.deferred,
    )
