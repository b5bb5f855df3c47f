"""What each kind of event asks of its service's state (pure). A `ServiceChange` says how to decide (an
incidents/ rule: failed_stops, deployments, service_action_events, action_outcomes), whether deciding needs
a DescribeServices snapshot, and whether the event may start state for a service the watchdog never saw.
The pipeline walks every change the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ecs_watchdog.diagnose.step import ProbeVerdict
from ecs_watchdog.events import DeploymentStateChangeEvent, ServiceActionEvent
from ecs_watchdog.incidents.action_outcomes import apply_containment
from ecs_watchdog.incidents.contract import ACTIVE, Result, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.deployments import apply_deployment_event
from ecs_watchdog.incidents.failed_stops import apply_stop
from ecs_watchdog.incidents.model import Explanation, ServiceState
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_action_events import apply_service_action
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.models import Finding, Stop

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


def stop_change(stop: Stop, facts: StopFacts, policy: LoopPolicy, confirmed: bool) -> ServiceChange:
    """A failed stop of a service task: count it against the loop rules (`confirmed`: a probe confirmed
    its deterministic cause)."""
    ref = ServiceRef(account=stop.account, region=stop.region, cluster=stop.cluster, name=stop.service)
    return ServiceChange(ref, facts.at, decide=lambda state, snap: apply_stop(state, facts, policy, confirmed))


def deployment_change(event: DeploymentStateChangeEvent, policy: LoopPolicy) -> ServiceChange | None:
    """A deployment state change; None when it names no service. Always looks the service up (the event
    names no task definition: the deployment id is mapped to one from DescribeServices)."""
    ref = ServiceRef.from_arn(event.service_arn)
    if ref is None:
        return None
    at = event.detail.updatedAt or event.time
    detail = event.detail
    return ServiceChange(
        ref,
        at,
        need_snapshot=lambda state: True,
        decide=lambda state, snap: apply_deployment_event(
            state, detail.eventName, detail.deploymentId, at, detail.reason, snap, policy
        ),
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
        explanation=Explanation(
            evidence=[line[:MAX_QUOTED] for line in c.evidence],
            next_steps=list(c.next_steps),
            runbook=c.runbook,
            probes=list(verdict.results) if verdict else [],
            stopped_task={"task_arn": stop.task_arn, "container": c.container, "log_group": c.log_group},
        ),
    )
