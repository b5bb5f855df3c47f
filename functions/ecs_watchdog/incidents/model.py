"""The incident engine's nouns: per-service state, incidents and their transitions.

They are stored as JSON documents in the state table (see docs/state.md), so every field has a
default and unknown fields are ignored: an older or newer watchdog can read what the other wrote.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Unstorable(ValueError):
    """The state cannot be stored however often it is retried (too large, not encodable)."""


class _Doc(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class IncidentKind(StrEnum):
    FAILING_DEPLOYMENT = "failing_deployment"  # a revision that never became healthy keeps failing
    CRASH_LOOP = "crash_loop"  # a revision that was healthy fails repeatedly for one cause
    DETERMINISTIC = "deterministic"  # a cause a probe confirmed: one failure is enough
    START_IMPAIRED = "start_impaired"  # ECS said SERVICE_TASK_START_IMPAIRED
    STUCK_DEPLOYMENT = "stuck_deployment"  # a deployment IN_PROGRESS for longer than allowed
    OVERLAPPING_DEPLOYMENTS = "overlapping_deployments"  # two or more deployments IN_PROGRESS
    CONFIGURATION_FAILURE = "configuration_failure"  # ECS cannot configure the service's tasks at all
    CORRELATED = "correlated"  # account level: many services failing for one cause at once
    INFRASTRUCTURE = "infrastructure"  # cluster level: platform failures or an impaired container instance


class IncidentStatus(StrEnum):
    OPEN = "open"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TransitionKind(StrEnum):
    OPENED = "opened"
    CONTAINED = "contained"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


class TimelineEntry(_Doc):
    at: datetime
    kind: str  # failure, deployment, service_action, transition, probe, action, message
    detail: str
    # Consecutive failures of one category fold into one entry: `count` of them, the last at `until`.
    category: str | None = None
    count: int = 1
    until: datetime | None = None


class Incident(_Doc):
    """One incident of one service (and deployment, when it is about one)."""

    id: str
    service: str  # service key: account/region/cluster/service
    kind: IncidentKind
    status: IncidentStatus = IncidentStatus.OPEN
    category: str | None = None  # the dominant stop category, when stops caused it
    task_definition: str | None = None
    deployment_id: str | None = None
    last_known_good: str | None = None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    failures: int = 0
    categories: dict[str, int] = Field(default_factory=dict)
    # Failures by where their cause lives (revision, configuration, platform: incidents/causes.py).
    causes: dict[str, int] = Field(default_factory=dict)
    cause: str | None = None  # where the incident's cause lives: revision when any failure's is
    # An organization incident (incidents/correlation_organization.py): services it covers, per account.
    accounts: dict[str, int] = Field(default_factory=dict)
    # Only a cause in the revision justifies acting on a service automatically (`unknown` alone never does).
    containment_eligible: bool = True
    reason: str = ""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # The containment decision for this incident (an ActionRecord as JSON, see contain/models.py), once
    # made; `{"outcome": "claimed", ...}` while an enforce action is under way. Held decisions (a guard
    # held it back) are re-checked after `containment_checked_at` + the recheck interval.
    containment: dict[str, Any] | None = None
    containment_checked_at: datetime | None = None
    acted: dict[str, Any] | None = None  # the last containment record that took effect (what undo reads)
    last_update_at: datetime | None = None  # the last count update people got (announce/cadence.py)
    # Approve mode: the action containment proposes (approvals/proposal.py, as JSON) until a person approves
    # it from Slack, it expires, or a newer one replaces it.
    proposal: dict[str, Any] | None = None
    # Who pressed Acknowledge and when ({"user_id", "user_name", "at"}): named in the message, no count updates.
    acknowledged: dict[str, Any] | None = None
    # Silenced from Slack: no message of any channel about the incident until then (transitions are recorded).
    silenced_until: datetime | None = None
    silenced_by: dict[str, Any] | None = None

    def silenced_at(self, now: datetime) -> bool:
        return self.silenced_until is not None and now < self.silenced_until


class Explanation(_Doc):
    """What people should read about a failure: verbatim evidence, next steps, the runbook."""

    evidence: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    runbook: str | None = None
    probes: list[dict[str, Any]] = Field(default_factory=list)  # read-only checks run for it (diagnose/step.py)
    stopped_task: dict[str, Any] | None = None  # task_arn, container, log_group: the links a message shows


class Transition(_Doc):
    """An incident changed status: what the notifier and the dashboard act on."""

    id: str  # incident id + sequence: stable, so a retried delivery can be recognised
    kind: TransitionKind
    incident: Incident
    at: datetime
    summary: str
    explanation: Explanation | None = None  # of the stop that caused it, when a stop did
    delivered: list[str] = Field(default_factory=list)  # channels that already took it
    # Wall-clock time until which the invocation that stored (or claimed) it owns its delivery; others
    # leave it alone until then. None: nobody is delivering it, the next invocation may.
    lease_until: datetime | None = None
    lease_owner: str | None = None  # the invocation holding the lease
    # What containment did or would do about the incident, for the message: kind, mode, dry_run, calls
    # [{service, operation, params}], call (the first), reason, outcome, would_have, before, after.
    action: dict[str, Any] | None = None
    probes: list[dict[str, Any]] = Field(default_factory=list)  # the probes of the stop that caused it
    stopped_task: dict[str, Any] | None = None  # the stop that caused it: task_arn, container, log_group


class DeploymentRecord(_Doc):
    id: str
    task_definition: str | None = None
    status: str = ""  # IN_PROGRESS | COMPLETED | FAILED as ECS names them; "" while unknown
    started_at: datetime | None = None
    updated_at: datetime | None = None
    stuck_reported: bool = False  # a stuck-deployment incident was opened for it: never again


class RevisionHealth(_Doc):
    """Failures of one task definition revision since a task of it last was healthy."""

    failures_since_healthy: int = 0
    healthy_at: datetime | None = None
    last_failure_at: datetime | None = None
    # When a containment action took the service away from this revision: until a task of it is healthy
    # again it is proven bad, never a rollback target, never let through a deployment gate.
    contained_at: datetime | None = None
    # When a person undid the watchdog's action on it (restore): their call, until it fails again.
    cleared_at: datetime | None = None

    @property
    def cleared(self) -> bool:
        """A person re-applied it after it was contained, and it has not failed since."""
        return self.cleared_at is not None and (self.last_failure_at is None or self.last_failure_at <= self.cleared_at)

    @property
    def proven_bad(self) -> bool:
        if self.contained_at is None or self.cleared:
            return False
        return self.healthy_at is None or self.healthy_at < self.contained_at


class RecentFailure(_Doc):
    at: datetime
    category: str
    task_definition: str
    cause: str | None = None  # where its cause lives (incidents/causes.py); None in state written before


class LastFailure(_Doc):
    """The latest failed stop's explanation, so an incident opened by a service event can say why."""

    at: datetime
    task_definition: str
    category: str
    summary: str
    explanation: Explanation = Field(default_factory=Explanation)


class ServiceState(_Doc):
    """Everything the watchdog remembers about one service (one state-table item)."""

    schema_version: int = SCHEMA_VERSION
    service: str
    revision: int = 0  # optimistic-locking counter of the stored item
    last_known_good: str | None = None
    last_known_good_source: str | None = None  # deployment_completed | steady_state | describe_services
    last_known_good_at: datetime | None = None
    bootstrapped: bool = False  # DescribeServices consulted once for LKG and tags
    threshold_override: int | None = None  # from the service tag ecs-watchdog:threshold
    action_tag: str | None = None  # the service tag ecs-watchdog:action, as last read from ECS
    last_action_at: datetime | None = None  # the last containment action that changed the service
    last_rollback_to: str | None = None  # the revision that action rolled back to, when it was a rollback
    deployments: dict[str, DeploymentRecord] = Field(default_factory=dict)
    revisions: dict[str, RevisionHealth] = Field(default_factory=dict)
    recent_failures: list[RecentFailure] = Field(default_factory=list)
    last_failure: LastFailure | None = None
    seen_tasks: dict[str, int] = Field(default_factory=dict)  # task id → highest detail.version seen
    incidents: dict[str, Incident] = Field(default_factory=dict)  # open, contained or resolved (not closed)
    # task definition ("*" for incidents that named none) → when its last closed incident was resolved:
    # a stop from before then that arrives late is history, not a relapse.
    settled: dict[str, datetime] = Field(default_factory=dict)
    incident_sequence: int = 0
    outbox: list[Transition] = Field(default_factory=list)  # transitions not yet delivered to people
    updated_at: datetime | None = None

    def failing_revisions(self) -> frozenset[str]:
        """Revisions that must not be rolled back to or let through a gate: an OPEN or CONTAINED incident
        of their own, or contained since they were last healthy (their incident resolves when the
        rollback away from them completes, and they are no better for it)."""
        unresolved = {
            i.task_definition
            for i in self.incidents.values()
            if i.task_definition and i.status in (IncidentStatus.OPEN, IncidentStatus.CONTAINED)
        }
        cleared = {td for td, health in self.revisions.items() if health.cleared}
        return frozenset((unresolved - cleared) | {td for td, health in self.revisions.items() if health.proven_bad})
