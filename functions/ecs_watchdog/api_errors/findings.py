"""Failed ECS API calls (CloudTrail) → a finding people can act on, deduplicated like incidents. Pure.

Some failures never stop a task: seed 001's RegisterTaskDefinition was rejected (its execution role ARN
still held `${AWS_ACCOUNT_ID}`), so only CloudTrail saw it. A finding names the operation, the error,
the offending value (placeholders found in the request) and the family or service; repeats of one
operation + error on one family/service within a window fold into one finding with a count.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ecs_watchdog.events import ApiCallErrorEvent
from ecs_watchdog.incidents.model import (
    Explanation,
    Incident,
    IncidentKind,
    Transition,
    TransitionKind,
)
from ecs_watchdog.incidents.service_ref import ServiceRef

# The ECS operations whose failure stops a deployment or a task from happening, by what they touch.
OPERATION_CATEGORIES: dict[str, str] = {
    "RegisterTaskDefinition": "task_definition",
    "CreateService": "service_configuration",
    "UpdateService": "service_configuration",
    "DeleteService": "service_configuration",
    "CreateTaskSet": "service_configuration",
    "UpdateTaskSet": "service_configuration",
    "UpdateServicePrimaryTaskSet": "service_configuration",
    "RunTask": "task_launch",
    "StartTask": "task_launch",
    "StopServiceDeployment": "deployment",
    "ContinueServiceDeployment": "deployment",
}
WATCHED_OPERATIONS = tuple(OPERATION_CATEGORIES)
# Error codes that say more than the operation does.
_CODE_CATEGORIES = {
    "AccessDeniedException": "permissions",
    "AccessDenied": "permissions",
    "UnauthorizedOperation": "permissions",
    "ThrottlingException": "throttling",
    "LimitExceededException": "quota",
}
DEDUPE_WINDOW = timedelta(minutes=60)
MAX_RECORDS = 20  # distinct operation + error pairs kept per family/service
MAX_SEEN_EVENTS = 50  # CloudTrail event ids remembered: EventBridge and SQS redeliver
MAX_TEXT = 1000
RUNBOOK = "docs/runbooks/task_definition.md"

# Values nobody meant to send: unresolved template variables and the usual stand-ins.
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|<[A-Za-z_][\w .:-]*>|\bREPLACE_?ME\b|\bchangeme\b|\bTODO\b", re.I)


class OffendingValue(BaseModel):
    """A request parameter holding a placeholder: where (`containerDefinitions[0].image`) and what."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    path: str
    value: str


@dataclass(frozen=True)
class ApiErrorFinding:
    """What a failed ECS API call means: operation, error, the family or service, and what to do."""

    account: str
    region: str
    operation: str
    error_code: str
    message: str
    subject: str  # the task definition family or the service name the call was about
    subject_kind: str  # family | service | unknown
    cluster: str
    category: str
    offending: tuple[OffendingValue, ...]
    next_steps: tuple[str, ...]
    caller: str
    event_id: str
    at: datetime

    @property
    def key(self) -> str:
        """The state item's key: account/region/family-or-service."""
        return f"{self.account}/{self.region}/{self.subject}"

    @property
    def dedupe_key(self) -> str:
        """Repeats of one operation and error fold into one finding."""
        return f"{self.operation}:{self.error_code}"

    @property
    def ref(self) -> ServiceRef:
        """How messages name it: `cluster/service`, or `task-definition/<family>` for a registration."""
        cluster = self.cluster or ("task-definition" if self.subject_kind == "family" else "-")
        return ServiceRef(account=self.account, region=self.region, cluster=cluster, name=self.subject)

    @property
    def summary(self) -> str:
        """One line: `RegisterTaskDefinition of backend was rejected (ClientException): ...`."""
        return f"{self.operation} of {self.subject} was rejected ({self.error_code}): {self.message}"[:MAX_TEXT]


def api_error_finding(event: ApiCallErrorEvent) -> ApiErrorFinding:
    """Read a failed ECS API call: the family/service it was about, the placeholders in its request,
    a category and next steps."""
    detail = event.detail
    params = detail.requestParameters or {}
    subject, kind = _subject(detail.eventName, params)
    cluster_param = params.get("cluster")
    cluster = _name(cluster_param) if isinstance(cluster_param, str) else ""
    offending = tuple(_placeholders(params))
    category = _CODE_CATEGORIES.get(detail.errorCode) or OPERATION_CATEGORIES.get(detail.eventName, "api_call")
    identity = detail.userIdentity
    caller = str(identity.get("arn") or identity.get("principalId") or "")
    finding = ApiErrorFinding(
        account=event.account,
        region=event.region,
        operation=detail.eventName,
        error_code=detail.errorCode,
        message=detail.errorMessage[:MAX_TEXT],
        subject=subject,
        subject_kind=kind,
        cluster=cluster,
        category=category,
        offending=offending,
        next_steps=(),
        caller=caller,
        event_id=detail.eventID or event.id,
        at=detail.eventTime or event.time,
    )
    return _with_next_steps(finding)


# --------------------------------------------------------------------------------------------------
# Deduplication: one stored item per family/service


class ApiErrorRecord(BaseModel):
    """One operation + error on one family/service: when it started, how often, what it said last."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    operation: str
    error_code: str
    first_at: datetime
    last_at: datetime
    count: int = 1
    message: str = ""
    announced_at: datetime | None = None


class ApiErrorState(BaseModel):
    """The state item `APIERROR#<account>/<region>/<family-or-service>`."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    subject: str
    revision: int = 0  # optimistic-locking counter of the stored item
    records: dict[str, ApiErrorRecord] = Field(default_factory=dict)
    seen_events: list[str] = Field(default_factory=list)
    sequence: int = 0
    outbox: list[Transition] = Field(default_factory=list)  # findings not yet delivered to people
    updated_at: datetime | None = None


@dataclass(frozen=True)
class ApiErrorDecision:
    """The new state, the transition to announce (a new finding only) and whether to write."""

    state: ApiErrorState
    transition: Transition | None
    changed: bool
    note: str
    count: int


def record_api_error(
    state: ApiErrorState, finding: ApiErrorFinding, window: timedelta = DEDUPE_WINDOW
) -> ApiErrorDecision:
    """Count the failed call. A new operation + error (or one quiet for `window`) makes a finding to
    announce; a repeat within the window only counts; a redelivered CloudTrail event changes nothing."""
    if finding.event_id and finding.event_id in state.seen_events:
        record = state.records.get(finding.dedupe_key)
        return ApiErrorDecision(state, None, False, "the same CloudTrail event again", record.count if record else 0)
    new = state.model_copy(deep=True)
    new.seen_events = [*new.seen_events, finding.event_id][-MAX_SEEN_EVENTS:] if finding.event_id else new.seen_events
    new.updated_at = max(new.updated_at, finding.at) if new.updated_at else finding.at
    record = new.records.get(finding.dedupe_key)
    if record is not None and finding.at - record.last_at <= window:
        record.count += 1
        record.last_at = max(record.last_at, finding.at)
        record.message = finding.message
        return ApiErrorDecision(new, None, True, f"repeat #{record.count} within {window}", record.count)
    record = ApiErrorRecord(
        operation=finding.operation,
        error_code=finding.error_code,
        first_at=finding.at,
        last_at=finding.at,
        message=finding.message,
        announced_at=finding.at,
    )
    new.records[finding.dedupe_key] = record
    if len(new.records) > MAX_RECORDS:
        oldest = min(new.records, key=lambda k: new.records[k].last_at)
        del new.records[oldest]
    new.sequence += 1
    transition = finding_transition(finding, new.sequence)
    new.outbox = [*new.outbox, transition]
    return ApiErrorDecision(new, transition, True, "new finding", 1)


def finding_transition(finding: ApiErrorFinding, sequence: int) -> Transition:
    """The finding as an `opened` transition, so the existing channels render and deliver it."""
    digest = hashlib.sha256(f"{finding.key}|{finding.dedupe_key}".encode()).hexdigest()[:12]
    incident = Incident(
        id=f"apierror-{digest}-{sequence}",
        service=finding.key,
        kind=IncidentKind.CONFIGURATION_FAILURE,
        category=finding.category,
        opened_at=finding.at,
        updated_at=finding.at,
        failures=1,
        containment_eligible=False,  # a rejected call changed nothing running: nothing to contain
        reason=finding.summary,
    )
    evidence = [f"{finding.operation} → {finding.error_code}: {finding.message}"]
    evidence += [f"{v.path} = {v.value}" for v in finding.offending]
    if finding.caller:
        evidence.append(f"called by {finding.caller}")
    return Transition(
        id=f"{incident.id}-opened",
        kind=TransitionKind.OPENED,
        incident=incident,
        at=finding.at,
        summary=finding.summary,
        explanation=Explanation(
            evidence=[line[:MAX_TEXT] for line in evidence],
            next_steps=list(finding.next_steps),
            runbook=RUNBOOK if finding.category == "task_definition" else None,
        ),
    )


# --------------------------------------------------------------------------------------------------


def _subject(operation: str, params: dict[str, Any]) -> tuple[str, str]:
    if operation == "RegisterTaskDefinition" and isinstance(params.get("family"), str):
        return params["family"], "family"
    for key in ("serviceName", "service"):
        if isinstance(params.get(key), str) and params[key]:
            return _name(params[key]), "service"
    if isinstance(params.get("taskDefinition"), str) and params["taskDefinition"]:
        return _family(params["taskDefinition"]), "family"
    return "unknown", "unknown"


def _name(value: str) -> str:
    """`arn:aws:ecs:...:service/cluster/name` or `name` → `name`."""
    return value.rsplit("/", 1)[-1]


def _family(task_definition: str) -> str:
    """`arn:...:task-definition/web:7`, `web:7` or `web` → `web`."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def _placeholders(value: Any, path: str = "") -> Iterator[OffendingValue]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _placeholders(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, f"{path}[{index}]")
    elif isinstance(value, str) and PLACEHOLDER.search(value):
        yield OffendingValue(path=path, value=value[:MAX_TEXT])


def _with_next_steps(finding: ApiErrorFinding) -> ApiErrorFinding:
    steps: list[str] = []
    for value in finding.offending:
        tokens = ", ".join(sorted(set(PLACEHOLDER.findall(value.value))))
        steps.append(
            f"Resolve {tokens} in `{value.path}` before the call: the deploy script sent the template "
            "unsubstituted (envsubst, a CI variable or a CDK/Terraform reference)."
        )
    message = finding.message.lower()
    if "execution role" in message:
        steps.append("Set `executionRoleArn` to an existing role ARN: awslogs, ECR pulls and secrets need it.")
    if finding.category == "permissions":
        steps.append(f"Grant the caller ({finding.caller or 'see CloudTrail'}) the action named in the message.")
    if finding.operation in ("UpdateService", "CreateService") and "taskdefinition" in message.replace(" ", ""):
        steps.append("An earlier step (RegisterTaskDefinition) probably failed: look for its finding first.")
    if finding.category == "throttling":
        steps.append("The caller is throttled: retry with backoff, or spread the deployments out.")
    steps.append(
        f"Fix the request and run {finding.operation} again; CloudTrail event {finding.event_id} has the full call."
    )
    return ApiErrorFinding(**{**finding.__dict__, "next_steps": tuple(steps)})
