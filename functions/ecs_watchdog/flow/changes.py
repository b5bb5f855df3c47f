"""What each kind of event asks of its service's state (pure). A `ServiceChange` says how to decide (an
incidents/ rule: failed_stops, deployments, service_action_events, action_outcomes), whether deciding needs
a DescribeServices snapshot, and whether the event may start state for a service the watchdog never saw.
The pipeline walks every change the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ecs_watchdog.diagnose.step import ProbeVerdict
from ecs_watchdog.events import DeploymentStateChangeEvent, ServiceActionEvent
from ecs_watchdog.incidents.action_outcomes import apply_containment
from ecs_watchdog.incidents.contract import ACTIVE, Result, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.deployments import apply_deployment_event
from ecs_watchdog.incidents.failed_stops import EarlyEvidence, apply_stop
from ecs_watchdog.incidents.model import Explanation, ServiceState
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.preflight_failures import PreflightFailure, open_on_preflight
from ecs_watchdog.incidents.service_action_events import apply_service_action
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.models import Finding, Stop

if TYPE_CHECKING:  # the preflight's models load with its adapter, on first use (cold start)
    from ecs_watchdog.diagnose.preflight import Preflight

MAX_QUOTED = 2000  # characters of a stop's summary or evidence line kept in state (items stay far below 400 KB)


def _no_snapshot(state: ServiceState) -> bool:
    return False


@dataclass(frozen=True)
class ServiceChange:
    """What one event asks of its service's state: how to decide, and what deciding needs."""

    ref: ServiceRef
    at: datetime
    decide: Callable[[ServiceState, ServiceSnapshot | None], Result]
    need_snapshot: Callable[[ServiceState], bool] = _no_snapshot  # DescribeServices before deciding?
    create: bool = True  # may this event start state for a service the watchdog never saw?


def stop_change(
    stop: Stop, facts: StopFacts, policy: LoopPolicy, confirmed: bool, early: EarlyEvidence | None = None
) -> ServiceChange:
    """A failed stop of a service task: count it against the loop rules (`confirmed`: a probe confirmed
    its deterministic cause; `early`: the service's tasks asked before the threshold, at most once)."""
    ref = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name=stop.service)
    once = _once(early) if early is not None else None
    return ServiceChange(ref, facts.at, decide=lambda state, snap: apply_stop(state, facts, policy, confirmed, once))


def _once(early: EarlyEvidence) -> EarlyEvidence:
    """`early`, asked the first time only: a decision retried on a write conflict reads no tasks again (the
    answer of the first read stands, even if the retry's state differs: the tasks were read once, seconds ago)."""
    answers: list[str | None] = []

    def asked(state: ServiceState) -> str | None:
        if not answers:
            answers.append(early(state))
        return answers[0]

    return asked


# task definition ARN, cluster, service -> the revision's preflight, or None when it could not run.
RevisionPreflight = Callable[[str, str, str], "Preflight | None"]


def deployment_change(
    event: DeploymentStateChangeEvent, policy: LoopPolicy, preflight: RevisionPreflight | None = None
) -> ServiceChange | None:
    """A deployment state change; None when it names no service. Always looks the service up (the event
    names no task definition: the deployment id is mapped to one from DescribeServices). With `preflight`,
    a new deployment's revision is checked before its first task starts: a deterministic fail opens the
    incident at once (incidents/preflight_failures.py)."""
    ref = ServiceRef.from_arn(event.service_arn)
    if ref is None:
        return None
    at = event.detail.updatedAt or event.time
    detail = event.detail

    def decide(state: ServiceState, snap: ServiceSnapshot | None) -> Result:
        result = apply_deployment_event(state, detail.eventName, detail.deploymentId, at, detail.reason, snap, policy)
        if preflight is None or detail.eventName != "SERVICE_DEPLOYMENT_IN_PROGRESS" or not result.changed:
            return result
        record = result.state.deployments.get(detail.deploymentId)
        if record is None or not record.task_definition or record.status != "IN_PROGRESS":
            return result
        checked = preflight(record.task_definition, ref.cluster, ref.name)
        if checked is None or checked.verdict != "fail":
            return result
        return open_on_preflight(result, detail.deploymentId, record.task_definition, at, preflight_failure(checked))

    return ServiceChange(ref, at, need_snapshot=lambda state: True, decide=decide)


PREFLIGHT_NEXT_STEP = "Fix the revision and deploy it again; check it first with `ecs-watchdog preflight`"


def preflight_failure(checked: Preflight) -> PreflightFailure:
    """What the incident keeps of a failed preflight: its fails' evidence, and the checks that did not pass."""
    return PreflightFailure(
        reason=checked.reason()[:MAX_QUOTED],
        category=checked.category or "task_definition",
        evidence=tuple(line[:MAX_QUOTED] for c in checked.failures for line in (c.evidence or (c.summary,))),
        checks=tuple(
            {"name": f"preflight {c.name}", "status": c.status, "summary": c.summary[:MAX_QUOTED]}
            for c in checked.checks
            if c.status != "pass"
        ),
        next_steps=(PREFLIGHT_NEXT_STEP,),
    )


def service_action_change(event: ServiceActionEvent, policy: LoopPolicy) -> ServiceChange | None:
    """A service action (steady state, start impaired, ...); None when it names no service. A steady
    state never starts state for a service the watchdog does not know."""
    ref = ServiceRef.from_arn(event.service_arn, event.detail.clusterArn)
    if ref is None:
        return None
    at = event.detail.createdAt or event.time
    name = event.detail.eventName
    steady = name == "SERVICE_STEADY_STATE"

    def need(state: ServiceState) -> bool:
        if steady:
            # Periodic and usually uneventful: only worth a DescribeServices when it can change
            # something (an active incident to resolve, or no last known good yet).
            return state.last_known_good is None or any(i.status in ACTIVE for i in state.incidents.values())
        return name in ("SERVICE_TASK_START_IMPAIRED", "SERVICE_TASK_CONFIGURATION_FAILURE")

    return ServiceChange(
        ref,
        at,
        need_snapshot=need,
        create=not steady,
        decide=lambda state, snap: apply_service_action(state, name, at, event.detail.reason, snap, policy),
    )


def containment_change(
    ref: ServiceRef, incident_id: str, action: str, took_effect: bool, at: datetime
) -> ServiceChange:
    """An action taken on an incident's service, and whether it took effect."""
    return ServiceChange(
        ref, at, decide=lambda state, snap: apply_containment(state, incident_id, action, took_effect, at)
    )


def tick_change(ref: ServiceRef, now: datetime) -> ServiceChange:
    """No event, only time: the timers run and leftovers go out; never starts state."""
    return ServiceChange(ref, now, decide=lambda state, snapshot: Result(state), create=False)


def stop_facts(stop: Stop, finding: Finding, verdict: ProbeVerdict | None, received: datetime) -> StopFacts:
    """What the incident engine keeps of a failed stop (quoted text capped at MAX_QUOTED)."""
    c = finding.classification
    return StopFacts(
        task_id=stop.task_id,
        version=stop.version,
        task_definition=stop.task_definition_arn or "unknown",
        deployment_id=stop.started_by if stop.started_by.startswith("ecs-svc/") else None,
        category=c.category,
        at=stop.stopped_at or received,
        summary=c.summary[:MAX_QUOTED],
        cause=c.cause,
        explanation=Explanation(
            evidence=[line[:MAX_QUOTED] for line in c.evidence],
            next_steps=list(c.next_steps),
            runbook=c.runbook,
            probes=list(verdict.results) if verdict else [],
            stopped_task={"task_arn": stop.task_arn, "container": c.container, "log_group": c.log_group},
        ),
    )
