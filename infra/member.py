"""The member template: one per member account and region (a service-managed StackSet over OUs by regions,
or a plain stack in the management account, which StackSets skip).

It holds no engine and no state: rules that forward the account's ECS events to the hub's bus in the
same region (with a role, as EventBridge asks of cross-account bus targets), a dead-letter queue for
deliveries that fail, and the named roles the hub assumes: `ecs-watchdog-read` for look-ups and probes,
and `ecs-watchdog-contain` for containment's writes, only when the member is deployed with enforce.
Both trust only the hub's roles (aws:PrincipalArn) and require the hub's ExternalId.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_watchdog.diagnose.permissions import confirming_probe_statements
from infra.containment import enforce_statements
from infra.ingest import (
    CONTAINER_INSTANCE_HEALTH_PATTERN,
    DEPLOYMENT_STATE_PATTERN,
    ECS_API_CALL_ERROR_PATTERN,
    HOOK_STATE_CHANGE_PATTERN,
    SERVICE_ACTION_PATTERN,
    STOPPED_SERVICE_TASKS_PATTERN,
)
from infra.organization import CONTAIN_ROLE_NAME, HUB_BUS_NAME, HUB_ROLE_PATTERN, READ_ROLE_NAME, external_id

# What the hub reads in a member: the events function's look-ups (DescribeServices with tags, essential
# containers) and containment's reads, besides the confirming probes (diagnose/permissions.py).
FORWARDED: dict[str, dict[str, Any]] = {
    "StoppedServiceTasks": STOPPED_SERVICE_TASKS_PATTERN,
    "DeploymentStateChanges": DEPLOYMENT_STATE_PATTERN,
    "ServiceActions": SERVICE_ACTION_PATTERN,
    "EcsApiCallErrors": ECS_API_CALL_ERROR_PATTERN,
    "ContainerInstanceHealth": CONTAINER_INSTANCE_HEALTH_PATTERN,
    # A gated service's PAUSE hooks: the hub answers them through this account's roles.
    "HookStateChanges": HOOK_STATE_CHANGE_PATTERN,
}


class MemberStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, hub_account: str, enforce: bool, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        hub_bus = events.EventBus.from_event_bus_arn(
            self,
            "HubBus",
            self.format_arn(service="events", account=hub_account, resource="event-bus", resource_name=HUB_BUS_NAME),
        )
        self.forward_role = iam.Role(
            self,
            "ForwardRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="ecs-watchdog: EventBridge puts this account's ECS events on the hub's bus",
        )
        self.delivery_dead_letter_queue = sqs.Queue(
            self,
            "ForwardDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rules = []
        for construct_id_, pattern in FORWARDED.items():
            rule = events.Rule(
                self,
                construct_id_,
                description=f"ecs-watchdog member: forward {pattern['detail_type'][0]} to the hub",
                event_pattern=events.EventPattern(
                    source=pattern["source"], detail_type=pattern["detail_type"], detail=pattern["detail"]
                ),
            )
            rule.add_target(
                targets.EventBus(hub_bus, role=self.forward_role, dead_letter_queue=self.delivery_dead_letter_queue)
            )
            self.rules.append(rule)
        self.read_role = self._hub_role(READ_ROLE_NAME, hub_account, "look-ups and read-only probes")
        for statement in read_statements(self, enforce=enforce):
            self.read_role.add_to_policy(statement)
        self.contain_role: iam.Role | None = None
        if enforce:
            self.contain_role = self._hub_role(CONTAIN_ROLE_NAME, hub_account, "containment (enforce mode)")
            services = self.format_arn(service="ecs", resource="service", resource_name="*")
            deployments = self.format_arn(service="ecs", resource="service-deployment", resource_name="*")
            # Containment reads before it writes (the service, the deployment to stop, the scalable target to
            # suspend, the revision's task roles); a ROLLBACK answer to a PAUSE hook is containment too.
            reads = read_statements(self, enforce=True)[:2] + containment_reads(self)
            for statement in [*reads, answer_pause_hooks(self), *enforce_statements(self, services, deployments)]:
                self.contain_role.add_to_policy(statement)
        cdk.CfnOutput(self, "ReadRoleArn", value=self.read_role.role_arn)
        _acknowledge_reviewed_findings(self)

    def _hub_role(self, name: str, hub_account: str, what: str) -> iam.Role:
        hub_roles = HUB_ROLE_PATTERN.format(partition=Aws.PARTITION, hub=hub_account)
        return iam.Role(
            self,
            name.title().replace("-", ""),
            role_name=name,
            description=f"ecs-watchdog: the hub ({hub_account}) assumes it for {what}",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(hub_account).with_conditions(
                {
                    "StringEquals": {"sts:ExternalId": external_id(hub_account)},
                    "ArnLike": {"aws:PrincipalArn": hub_roles},
                }
            ),
        )


def read_statements(stack: Stack, *, enforce: bool) -> list[iam.PolicyStatement]:
    """The read role's statements. Without a containment role (dry-run, notify) it also makes containment's
    reads and answers PAUSE hooks CONTINUE; with one (enforce), that role does both (containment_statements)."""
    services = stack.format_arn(service="ecs", resource="service", resource_name="*")
    statements = [
        iam.PolicyStatement(
            sid="DescribeServices",
            actions=["ecs:DescribeServices", "ecs:ListTagsForResource"],
            resources=[services],
        ),
        iam.PolicyStatement(
            sid="DescribeTaskDefinitions",
            # DescribeTaskDefinition supports no resource-level permissions: "*" is the only option.
            actions=["ecs:DescribeTaskDefinition"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="ListClustersAndServices",
            # The hub's sweep walks every service of the account. Neither action supports resource-level
            # permissions (IAM service reference): "*" only.
            actions=["ecs:ListClusters", "ecs:ListServices"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="DiagnoseTargetGroups",
            # The hub's diagnose function (and `ecs-watchdog diagnose --account`) reads a service's target
            # groups and their health; neither action supports resource-level permissions: "*" only.
            actions=["elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetHealth"],
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="ReadServiceTasks",
            # The tasks on an impaired container instance, and a failing service's tasks (are its failures
            # transient? contain/transient.py): ListTasks is authorized on container instances, DescribeTasks on tasks.
            actions=["ecs:ListTasks", "ecs:DescribeTasks"],
            resources=[
                stack.format_arn(service="ecs", resource="container-instance", resource_name="*"),
                stack.format_arn(service="ecs", resource="task", resource_name="*"),
            ],
        ),
    ]
    if not enforce:
        statements += containment_reads(stack)
        statements.append(answer_pause_hooks(stack))
    for probe in confirming_probe_statements():
        statements.append(
            iam.PolicyStatement(
                sid=probe.sid,
                actions=list(probe.actions),
                resources=list(probe.resolved(Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID)),
            )
        )
    return statements


def containment_reads(stack: Stack) -> list[iam.PolicyStatement]:
    """What containment reads before it writes (the deployment to stop, the scalable target to suspend)."""
    return [
        iam.PolicyStatement(
            sid="ReadServiceDeployments",
            actions=["ecs:ListServiceDeployments"],
            resources=[stack.format_arn(service="ecs", resource="service", resource_name="*")],
        ),
        iam.PolicyStatement(
            sid="DescribeScalableTargets",
            # No resource-level permissions for Describe* in Application Auto Scaling: "*" is the only option.
            actions=["application-autoscaling:DescribeScalableTargets"],
            resources=["*"],
        ),
    ]


def answer_pause_hooks(stack: Stack) -> iam.PolicyStatement:
    """A gated member service's PAUSE hooks. Authorized on BOTH the service and the service deployment."""
    return iam.PolicyStatement(
        sid="AnswerPauseHooks",
        actions=["ecs:ContinueServiceDeployment"],
        resources=[
            stack.format_arn(service="ecs", resource="service", resource_name="*"),
            stack.format_arn(service="ecs", resource="service-deployment", resource_name="*"),
        ],
    )


def _acknowledge(construct: Any, rule: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def _acknowledge_reviewed_findings(stack: MemberStack) -> None:
    _acknowledge(
        stack.delivery_dead_letter_queue,
        "AwsSolutions::AwsSolutions-SQS3",
        "This queue IS a dead-letter queue (the forwarding rules'); a DLQ behind a DLQ would only hide events.",
    )
    names = {"partition": "<AWS::Partition>", "region": "<AWS::Region>", "account": "<AWS::AccountId>"}
    # format_arn names the stack's own region and account: concrete when the stack has them.
    region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
    ecs_arn = f"arn:<AWS::Partition>:ecs:{region}:{account}"
    for role in (r for r in (stack.read_role, stack.contain_role) if r is not None):
        _acknowledge(
            role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{ecs_arn}:service/*]",
            "The hub watches (and in enforce mode contains) every ECS service of the member's account and region.",
        )
        _acknowledge(
            role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions use '*': DescribeTaskDefinition, "
            "DescribeScalableTargets, ListClusters/ListServices (the hub's sweep), the target groups and their "
            "health (the hub's diagnosis) and the probes' describes.",
        )
        for probe in confirming_probe_statements():
            for resource in probe.resolved(**names):
                _acknowledge(
                    role,
                    f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                    f"Read-only {', '.join(probe.actions)} to confirm a cause ({probe.why}).",
                )
    for resource in ("container-instance", "task"):
        _acknowledge(
            stack.read_role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{ecs_arn}:{resource}/*]",
            "Read-only ListTasks/DescribeTasks: the services on an impaired instance, a failing service's tasks.",
        )
    if stack.contain_role is None:
        _acknowledge(
            stack.read_role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::{ecs_arn}:service-deployment/*]",
            "Without enforce the hub answers a gated service's PAUSE hooks CONTINUE (fail-open), whichever deployment.",
        )
    if stack.contain_role is not None:
        for resource, why in (
            (f"{ecs_arn}:service-deployment/*", "A rollback stops whichever deployment is failing."),
            (
                f"arn:<AWS::Partition>:application-autoscaling:{region}:{account}:scalable-target/*",
                "Scalable-target ARNs carry an opaque id, not the service: no narrower resource exists.",
            ),
            (
                f"arn:<AWS::Partition>:iam::{account}:role/*",
                "A rollback passes the target revision's task roles, only to ecs-tasks.amazonaws.com.",
            ),
        ):
            _acknowledge(stack.contain_role, f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", why)
