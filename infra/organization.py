"""Organization mode: which deployment this synth is (single, hub or member), and the hub's bus.

`watchdog:deployment` single (default: one watchdog per account and region, as before) | hub (the engine
in a tooling account, fed by a custom event bus the organization or named accounts may put events on)
| member (the rules that forward an account's ECS events to the hub, and the roles the hub assumes;
infra/member.py). `watchdog:regions` synthesizes one stack per region from one command.
The names of these keys, the bus and the roles are a contract (docs/organization.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from constructs import Construct

from ecs_watchdog.aws.member_sessions import hub_external_id
from infra.config import PREFIX, ConfigError

DEPLOYMENTS = ("single", "hub", "member")
KEYS = ("deployment", "organization_id", "member_accounts", "hub_account", "regions")
HUB_BUS_NAME = "ecs-watchdog-hub"  # the member's rules target it by name in the hub's account and region
READ_ROLE_NAME = "ecs-watchdog-read"  # look-ups and probes; in every member
CONTAIN_ROLE_NAME = "ecs-watchdog-contain"  # containment's writes; only in a member deployed with enforce
# The hub's stacks are named EcsWatchdog or EcsWatchdog-<region>, so are their roles: only they may assume.
HUB_ROLE_PATTERN = "arn:{partition}:iam::{hub}:role/EcsWatchdog*"
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def external_id(hub_account: str) -> str:
    """The ExternalId the hub passes and the member roles require: a second check on who is asking."""
    return hub_external_id(hub_account)


@dataclass(frozen=True)
class OrganizationConfig:
    deployment: str = "single"
    organization_id: str = ""
    member_accounts: tuple[str, ...] = ()
    hub_account: str = ""
    regions: tuple[str, ...] = ()


def split_context(context: Mapping[str, Any]) -> tuple[OrganizationConfig, dict[str, Any]]:
    """The organization keys, validated, and the rest of the context (for infra/config.load_config)."""
    ours = {k[len(PREFIX) :]: v for k, v in context.items() if k.startswith(PREFIX) and k[len(PREFIX) :] in KEYS}
    rest = {k: v for k, v in context.items() if not (k.startswith(PREFIX) and k[len(PREFIX) :] in KEYS)}
    return load_organization(ours), rest


def load_organization(values: Mapping[str, Any]) -> OrganizationConfig:
    deployment = str(values.get("deployment", "single")).strip()
    if deployment not in DEPLOYMENTS:
        raise ConfigError(f"{PREFIX}deployment: {deployment!r} is not one of {', '.join(DEPLOYMENTS)}")
    organization_id = str(values.get("organization_id", "")).strip()
    if organization_id and not _ORGANIZATION_ID.match(organization_id):
        raise ConfigError(f"{PREFIX}organization_id: {organization_id!r} is not an organization id (o-xxxxxxxxxx)")
    members = _listed(values.get("member_accounts", ()), "member_accounts", _ACCOUNT, "a 12-digit account id")
    hub = str(values.get("hub_account", "")).strip()
    if hub and not _ACCOUNT.match(hub):
        raise ConfigError(f"{PREFIX}hub_account: {hub!r} is not a 12-digit account id")
    regions = _listed(values.get("regions", ()), "regions", _REGION, "a region such as eu-west-1")
    config = OrganizationConfig(deployment, organization_id, members, hub, regions)
    if deployment == "hub" and not (organization_id or members):
        raise ConfigError(
            f"{PREFIX}deployment=hub needs {PREFIX}organization_id (o-...) and/or {PREFIX}member_accounts "
            "(111122223333,...): the hub's bus would admit nobody"
        )
    if deployment == "member" and not hub:
        raise ConfigError(f"{PREFIX}deployment=member needs {PREFIX}hub_account: the account the hub runs in")
    if deployment != "hub" and (organization_id or members):
        raise ConfigError(f"{PREFIX}organization_id and {PREFIX}member_accounts apply to {PREFIX}deployment=hub only")
    if deployment != "member" and hub:
        raise ConfigError(f"{PREFIX}hub_account applies to {PREFIX}deployment=member only")
    return config


def _listed(value: Any, key: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    found = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    for item in found:
        if not pattern.match(item):
            raise ConfigError(f"{PREFIX}{key}: {item!r} is not {what}")
    return found


def hub_environment(organization: OrganizationConfig, hub_account: str, *, enforce: bool) -> dict[str, str]:
    """What the hub's events function needs to act for its members (wiring/settings.py reads it)."""
    return {
        "MEMBER_ACCOUNTS": "*" if organization.organization_id else ",".join(organization.member_accounts),
        "MEMBER_READ_ROLE": READ_ROLE_NAME,
        **({"MEMBER_CONTAIN_ROLE": CONTAIN_ROLE_NAME} if enforce else {}),
        "MEMBER_EXTERNAL_ID": external_id(hub_account),
    }


class HubBus(Construct):
    """The custom event bus the members' rules put their ECS events on. Its policy admits the organization
    (aws:PrincipalOrgID, one statement whatever its size: the policy stays far below EventBridge's 10 KB)
    and/or the named accounts (one principal each)."""

    def __init__(self, scope: Construct, construct_id: str, *, organization: OrganizationConfig) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=HUB_BUS_NAME)
        if organization.organization_id:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="OrganizationMembersPutEvents",
                    principals=[iam.AnyPrincipal()],
                    actions=["events:PutEvents"],
                    resources=[self.bus.event_bus_arn],
                    conditions={"StringEquals": {"aws:PrincipalOrgID": organization.organization_id}},
                )
            )
        if organization.member_accounts:
            self.bus.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="NamedMembersPutEvents",
                    principals=[iam.AccountPrincipal(a) for a in organization.member_accounts],
                    actions=["events:PutEvents"],
                    resources=[self.bus.event_bus_arn],
                )
            )

    @staticmethod
    def assume_member_roles(role: iam.IRole, organization: OrganizationConfig, *, contain: bool) -> None:
        """Let a hub function assume the members' named roles: in the named accounts, or in any account
        when the organization is admitted (its members' trust policies then decide which hub may)."""
        names = [READ_ROLE_NAME] + ([CONTAIN_ROLE_NAME] if contain else [])
        accounts = ["*"] if organization.organization_id else list(organization.member_accounts)
        stack = Stack.of(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="AssumeMemberRoles",
                actions=["sts:AssumeRole"],
                resources=[
                    stack.format_arn(service="iam", region="", account=a, resource="role", resource_name=n)
                    for a in accounts
                    for n in names
                ],
            )
        )
        if organization.organization_id:
            for name in names:
                cdk.Validations.of(role).acknowledge(  # type: ignore[arg-type]
                    cdk.Acknowledgment(
                        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/{name}]",
                        reason="Any member of the organization (accounts join over time); only this role name, and "
                        "each member's trust policy admits only the hub's roles with its ExternalId.",
                    )
                )
