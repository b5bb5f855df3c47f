"""The authorization contract for organization mode: the hub's events function acting in a member account.

The hub template (events role with sts:AssumeRole on the member roles) and the member template (the
`ecs-watchdog-read` role, and `ecs-watchdog-contain` with enforce) are synthesized once per mode, the
member's bound to the member's account. The hub's events function runs through its real handler on moto
with a member account beside it (moto separates accounts by the assumed credentials): every session the
hub assumes there is registered with the recorder (tests/authz/recorder.py), so a call signed with a
member role's credentials is judged against THAT role of the member template, and the hub's own calls
(sts:AssumeRole included) against the hub's events role. AssumeRole is also judged against the member
role's trust policy (a resource policy, evaluated cross-account): only the hub's `EcsWatchdog*` roles,
with the ExternalId.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aws_cdk as cdk
import boto3
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.member_sessions import MemberSessions
from ecs_watchdog.handlers import diagnose, ecs_events
from ecs_watchdog.handlers import sweep as sweep_handler
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from ecs_watchdog.wiring.diagnose import DiagnoseSettings
from ecs_watchdog.wiring.settings import Settings
from infra.organization import CONTAIN_ROLE_NAME, READ_ROLE_NAME, external_id
from tests.authz.iam_requests import IamRequest, Lookups
from tests.authz.recorder import RecordedCall, register_assumed
from tests.authz.runs import (
    DeployedAccount,
    _attach_target_group,
    _continue_answer,
    _diagnosable,
    _environment,
    _hook,
    _invoke,
    _probe_iam_stub,
    _probe_runs,
    in_account,
)
from tests.authz.template import ACCOUNT, REGION, StackTemplate
from tests.integration.incident_events import CLUSTER, IMAGE, bodies, stopped, td
from tests.integration.instance_health import instance_health, instance_with_a_task_of
from tests.integration.organization_setup import assumed_session
from tests.integration.service_setup import publish_image

MEMBER = "111122223333"
# The hub and its member in the same mode: a dry-run member has no containment role to assume.
ORGANIZATION_MODES = ("dry-run", "enforce")
FULL_RUN = "enforce"  # the mode whose runs reach every member call (member_runs)
HUB_CONTEXT = {"watchdog:deployment": "hub", "watchdog:member_accounts": MEMBER}
MEMBER_ROLES = {"dry-run": (READ_ROLE_NAME,), "enforce": (READ_ROLE_NAME, CONTAIN_ROLE_NAME)}


def synthesize_member(out: Path, mode: str) -> StackTemplate:
    """The member template for `mode`, bound to the member's account (as a StackSet instance would be)."""
    from app import build_stacks
    from tests.infra.conftest import _cdk_json_context

    context = {
        **_cdk_json_context(),
        "aws:cdk:bundling-stacks": [],
        "watchdog:deployment": "member",
        "watchdog:hub_account": ACCOUNT,
        "watchdog:mode": mode,
    }
    saved = {k: os.environ.get(k) for k in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
    os.environ.update(CDK_DEFAULT_ACCOUNT=MEMBER, CDK_DEFAULT_REGION=REGION)
    try:
        app = cdk.App(context=context, outdir=str(out))
        (stack,) = build_stacks(app)
        template = app.synth().get_stack_by_name(stack.stack_name).template
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return StackTemplate(dict(template), account=MEMBER, stack_name=stack.stack_name)


def member_role_arn(role_name: str) -> str:
    return f"arn:aws:iam::{MEMBER}:role/{role_name}"


def hub_principal(hub: StackTemplate, function: str = "events") -> str:
    """A function role's ARN as CloudFormation names an unnamed role: <stack name>-<logical id>-<suffix>."""
    role = hub.functions()[function].role_logical_id
    return f"arn:aws:iam::{ACCOUNT}:role/{hub.stack_name}-{role}"[:60] + "-1A2B3C4D"


@contextlib.contextmanager
def member_sessions_recorded(hub: DeployedAccount) -> Iterator[list[tuple[str, str]]]:
    """Every session the hub assumes in a member: registered with the recorder (its calls are the member
    role's), answered where moto lacks the ECS call (service deployments, ContinueServiceDeployment, IAM's
    policy simulation). Yields the (account, role) pairs assumed."""
    original = MemberSessions.session
    assumed: list[tuple[str, str]] = []

    seen: set[int] = set()

    def session(self: MemberSessions, account: str, role_name: str) -> boto3.Session:
        created = original(self, account, role_name)
        if id(created) not in seen:  # each function's cold start makes sessions of its own
            seen.add(id(created))
            assumed.append((account, role_name))
            register_assumed(created._session.get_credentials(), account, role_name)
            ServiceDeploymentCalls(account, REGION).install(created)
            created.events.register("before-call.ecs.ContinueServiceDeployment", _continue_answer(hub))
            _probe_iam_stub(DeployedAccount(created, hub.stack, hub.webhook, hub.bot), {"EvaluationResults": []})
        return created

    MemberSessions.session = session  # type: ignore[method-assign]
    try:
        yield assumed
    finally:
        MemberSessions.session = original  # type: ignore[method-assign]


def setup_session(hub: DeployedAccount) -> boto3.Session:
    """The test's own session in the member account."""
    return assumed_session(hub.session.client("sts"), MEMBER, role="authz-setup")


def member_runs(hub: DeployedAccount, *, full: bool) -> list[tuple[str, str]]:
    """The hub's events function on a member's events: the confirming probes and a new revision's preflight
    (tests/authz/runs.py's probe runs, in the member), an incident contained (enforce: a rollback by
    StopServiceDeployment through the containment role), a PAUSE hook of a gated service answered through
    the member's role, an impaired container instance; then the hub's sweep over the member and a diagnosis.
    Without `full` (dry-run), only what differs by mode (containment's reads, the hook's CONTINUE through the
    read role, the instance): the probes, the sweep and the diagnosis use read-role statements the same in
    both modes, shown once (test_authorization.py counts an identical statement as shown). Returns the
    member roles assumed."""
    settings = Settings.from_environment(_environment(hub.stack.functions()["events"]))
    with member_sessions_recorded(hub) as assumed:
        ecs_events.install(settings, hub.session)
        setup = setup_session(hub)
        member = DeployedAccount(setup, hub.stack, hub.webhook, hub.bot)
        if full:
            _probe_runs(member, owner=MEMBER)
        _member_service(member, "api", tags={})
        _invoke(bodies(*(in_account(stopped(n, n), MEMBER) for n in (1, 2, 3, 4))))
        _member_service(member, "gated", tags={"ecs-watchdog:gate": "on"})
        _invoke(bodies(_hook("gated", "hook-member-1", owner=MEMBER)))
        # An impaired container instance of the member: ListTasks + DescribeTasks name the services on it.
        instance = instance_with_a_task_of(setup, "api", cluster="ec2-capacity")
        _invoke(bodies(in_account(instance_health(instance, "IMPAIRED", 50, cluster="ec2-capacity"), MEMBER)))
        if full:
            _member_sweep(hub)
            _member_diagnosis(hub, member)
    return assumed


def _member_diagnosis(hub: DeployedAccount, member: DeployedAccount) -> None:
    """The hub's diagnose function asked for a member's service behind a target group, and for a member's
    task: every probe, through the member's read role (secret values are never read there)."""
    _attach_target_group(member)
    function = hub.stack.functions()["diagnose"]
    diagnose.install(DiagnoseSettings.from_environment(_environment(function)), hub.session)
    try:
        for request in (
            {"account": MEMBER, "cluster": "pairva-cluster", "service": "pairva-lb"},
            {"account": MEMBER, "taskArn": _diagnosable(member)["task"], "cluster": "pairva-cluster"},
        ):
            answer = diagnose.handler(request, LocalLambdaContext())
            assert "error" not in answer, answer
    finally:
        diagnose._console = None


def _member_sweep(hub: DeployedAccount) -> None:
    """The hub's sweep, twice: the walk of the member's clusters and services through its read role, then
    the ticks of the member services the events runs left watched."""
    function = hub.stack.functions()["sweep"]
    with mock.patch.dict(os.environ, _environment(function)):
        sweep_handler._sweep = None
        try:
            for _ in range(2):
                sweep_handler.handler({"source": "aws.scheduler"}, LocalLambdaContext())
        finally:
            sweep_handler._sweep = None


def _member_service(member: DeployedAccount, name: str, tags: dict[str, str]) -> None:
    """Service `name` in the member, rolling out revision 6 over a COMPLETED revision 5 (one task running)."""
    ecs = member.session.client("ecs")
    if not ecs.describe_clusters(clusters=[CLUSTER])["clusters"]:
        ecs.create_cluster(clusterName=CLUSTER)
        publish_image(member)  # type: ignore[arg-type]
        for _ in range(1, 8):
            image = IMAGE.replace(ACCOUNT, MEMBER)
            ecs.register_task_definition(
                family="api", containerDefinitions=[{"name": "api", "image": image, "memory": 128}]
            )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=td(6).replace(ACCOUNT, MEMBER),
        desiredCount=2,
        tags=[{"key": k, "value": v} for k, v in tags.items()],
    )
    service = ecs_backends[MEMBER][REGION]._get_service(CLUSTER, name)
    service.deployments = [
        {
            "id": "ecs-svc/2000000000000000006",
            "status": "PRIMARY",
            "taskDefinition": td(6).replace(ACCOUNT, MEMBER),
            "rolloutState": "IN_PROGRESS",
            "desiredCount": 2,
            "runningCount": 1,
            "failedTasks": 0,
        },
        {
            "id": "ecs-svc/1000000000000000001",
            "status": "ACTIVE",
            "taskDefinition": td(5).replace(ACCOUNT, MEMBER),
            "rolloutState": "COMPLETED",
            "desiredCount": 0,
            "runningCount": 1,
        },
    ]


def member_lookups(hub: StackTemplate) -> Lookups:
    """Tags and task roles as the member's account holds them."""

    def tags(arn: str) -> dict[str, str]:
        cluster, name = arn.split(":service/", 1)[1].split("/")
        try:
            service = ecs_backends[MEMBER][REGION]._get_service(cluster, name)
        except Exception:
            return {}
        return {t["key"]: t["value"] for t in service.tags or []}

    def roles(arn: str) -> list[str]:
        definition = ecs_backends[MEMBER][REGION].describe_task_definition(arn)
        return [r for r in (definition.task_role_arn, definition.execution_role_arn) if r]

    return Lookups(service_tags=tags, task_definition_roles=roles, topic_key=hub.topic_key_arn)


def as_member_role(request: IamRequest, role_name: str) -> IamRequest:
    """A request the hub's events function made with a member role's credentials: judged as that role."""
    return IamRequest(
        role_name,
        request.action,
        request.resource,
        request.context,
        request.call,
        request.call_site,
        f"{request.because}, made by the hub's {request.function} function as {role_name}",
    )


def with_principal(request: IamRequest, principal: str) -> IamRequest:
    """An AssumeRole request as STS sees it: the calling role's ARN is in aws:PrincipalArn."""
    if request.action != "sts:AssumeRole":
        return request
    context = {**request.context, "aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT}
    return IamRequest(
        request.function, request.action, request.resource, context, request.call, request.call_site, request.because
    )


def trust_probes(role_name: str, principal: str) -> list[tuple[str, IamRequest]]:
    """AssumeRole of a member role by principals its trust policy must refuse: (expected decision, request)."""
    arn = member_role_arn(role_name)
    good = {"sts:ExternalId": external_id(ACCOUNT), "aws:PrincipalArn": principal, "aws:PrincipalAccount": ACCOUNT}
    other = f"arn:aws:iam::{ACCOUNT}:role/SomeoneElsesRole"

    def probe(context: dict[str, Any], because: str) -> IamRequest:
        return IamRequest("trust", "sts:AssumeRole", arn, context, f"AssumeRole({arn})", None, because)

    return [
        ("Allowed", probe(good, "the hub's events role with the ExternalId")),
        ("ImplicitlyDenied", probe({k: v for k, v in good.items() if k != "sts:ExternalId"}, "without ExternalId")),
        ("ImplicitlyDenied", probe({**good, "sts:ExternalId": "guessed"}, "a wrong ExternalId")),
        ("ImplicitlyDenied", probe({**good, "aws:PrincipalArn": other}, "another role of the hub account")),
    ]


def split_by_identity(
    calls: list[RecordedCall], requests: Callable[[list[RecordedCall], Lookups], list[IamRequest]], hub: StackTemplate
) -> tuple[list[IamRequest], dict[str, list[IamRequest]]]:
    """One hub function's requests made with its own role, and those made with each member role (by name)."""
    own = requests([c for c in calls if c.assumed is None], Lookups(topic_key=hub.topic_key_arn))
    by_role: dict[str, list[IamRequest]] = {}
    for role_name in sorted({c.assumed[1] for c in calls if c.assumed is not None}):
        made = [c for c in calls if c.assumed is not None and c.assumed[1] == role_name]
        by_role[role_name] = [as_member_role(r, role_name) for r in requests(made, member_lookups(hub))]
    return own, by_role
