"""cdk-nag AwsSolutions findings we reviewed and accept, each with its reason next to it."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk

from ecs_watchdog.diagnose.permissions import confirming_probe_statements, diagnosis_statements
from infra.stack import EcsWatchdogStack


def _acknowledge(construct: object, rule: str, reason: str) -> None:
    for each in construct if isinstance(construct, tuple) else (construct,):
        cdk.Validations.of(each).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))  # type: ignore[arg-type]


def suppress_reviewed_findings(stack: EcsWatchdogStack) -> None:
    """Acknowledge the findings that are deliberate; anything else fails synth."""
    _acknowledge(
        stack.ingest.delivery_dead_letter_queue,
        "AwsSolutions::AwsSolutions-SQS3",
        "This queue IS a dead-letter queue (the EventBridge target's); a DLQ behind a DLQ would only hide events.",
    )
    # cdk-nag names the resource as synthesized: a concrete region/account when the stack has one.
    region = "<AWS::Region>" if cdk.Token.is_unresolved(stack.region) else stack.region
    account = "<AWS::AccountId>" if cdk.Token.is_unresolved(stack.account) else stack.account
    _acknowledge(
        (stack.functions.events_function.role, stack.containment.hook_function.role, *_desk_acting_roles(stack)),
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:{region}:{account}:service/*]",
        "The watchdog watches (and in enforce mode, or on a Slack approval, contains) every ECS service of its "
        "account and region.",
    )
    _acknowledge(
        stack.functions.events_function.role,
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Only actions without resource-level permissions use '*' (IAM service reference): DescribeTaskDefinition, "
        "DescribeScalableTargets and the probes' logs, SSM and EC2 describes.",
    )
    for resource in ("container-instance", "task"):
        _acknowledge(
            stack.functions.events_function.role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:{region}:{account}:{resource}/*]",
            "Read-only ListTasks/DescribeTasks to name the services on any impaired container instance of the account.",
        )
    _acknowledge_diagnose_role(stack)
    _acknowledge_confirming_probes(stack)
    _suppress_containment_findings(stack, region, account)
    _suppress_sweep_findings(stack, region, account)
    if stack.interactions is not None:
        _acknowledge(
            stack.interactions.role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only actions without resource-level permissions: CDK's X-Ray grant under watchdog:tracing, and where "
            "the desk acts DescribeTaskDefinition and DescribeScalableTargets. The Function URL's auth type NONE "
            "is deliberate: Slack cannot sign "
            "SigV4, and the handler refuses every request without Slack's valid signature (infra/interactions.py).",
        )


def _acknowledge_diagnose_role(stack: EcsWatchdogStack) -> None:
    """The diagnose role reads whatever a task definition may point at: each wildcard is one read-only statement."""
    # The role's resources use the pseudo-parameters (Aws.REGION, ...), so cdk-nag names them alike everywhere.
    names = {"partition": "<AWS::Partition>", "region": "<AWS::Region>", "account": "<AWS::AccountId>"}
    for statement in diagnosis_statements(read_secret_values=True):
        for resource in statement.resolved(**names):
            _acknowledge(
                stack.diagnose.role,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                f"Read-only {', '.join(statement.actions)} for the diagnosis ({statement.why}); "
                "a task definition may name any such resource.",
            )


def _acknowledge_confirming_probes(stack: EcsWatchdogStack) -> None:
    """The events function's confirming probes read what a failing task definition points at."""
    names = {"partition": "<AWS::Partition>", "region": "<AWS::Region>", "account": "<AWS::AccountId>"}
    for statement in confirming_probe_statements():
        for resource in statement.resolved(**names):
            if resource == "*":
                continue  # acknowledged with the role's other "*" actions
            _acknowledge(
                stack.functions.events_function.role,
                f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]",
                f"Read-only {', '.join(statement.actions)} to confirm a failure's cause ({statement.why}).",
            )


def _suppress_containment_findings(stack: EcsWatchdogStack, region: str, account: str) -> None:
    """Containment acts on any service of the account, so its resources are every one of a kind."""
    ecs_arn = f"arn:<AWS::Partition>:ecs:{region}:{account}"
    events_role = stack.functions.events_function.role
    hook_role = stack.containment.hook_function.role
    _acknowledge(
        hook_role,
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{ecs_arn}:service-revision/*]",
        "DescribeServiceRevisions maps a deployment's target revision of any watched service to its task definition.",
    )
    desk = _desk_acting_roles(stack)
    _acknowledge(
        (events_role, *desk),
        f"AwsSolutions::AwsSolutions-IAM5[Resource::{ecs_arn}:service-deployment/*]",
        "ContinueServiceDeployment answers a PAUSE hook of any opted-in service (every mode: CONTINUE outside "
        "enforce); StopServiceDeployment rolls one back (enforce only, or approved in Slack).",
    )
    # The writes of enforce_statements: the events role's in enforce mode, the Slack desk's where it acts.
    writers = ((events_role,) if stack.containment.enforces else ()) + desk
    if writers:
        _acknowledge(
            writers,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:application-autoscaling:{region}:{account}"
            ":scalable-target/*]",
            "RegisterScalableTarget (suspend/restore scaling): scalable-target ARNs hold an opaque id, no service.",
        )
        _acknowledge(
            writers,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::{account}:role/*]",
            "iam:PassRole only to ecs-tasks.amazonaws.com: a rollback's UpdateService passes its revision's roles.",
        )


def _desk_acting_roles(stack: EcsWatchdogStack) -> tuple[object, ...]:
    """The Slack interactivity role where its desk carries approvals and Undo out (infra/interactions.py)."""
    interactions = stack.interactions
    return (interactions.role,) if interactions is not None and interactions.acts else ()


def _suppress_sweep_findings(stack: EcsWatchdogStack, region: str, account: str) -> None:
    """The sweep lists and describes every service of the account."""
    if stack.sweep is not None:
        _acknowledge(
            stack.sweep.role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:{region}:{account}:service/*]",
            "The sweep looks at every ECS service in its account and region: DescribeServices on any of them.",
        )
        _acknowledge(
            stack.sweep.role,
            "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "Only ecs:ListClusters and ecs:ListServices use '*': neither supports resource-level permissions.",
        )
        function = stack.get_logical_id(cast(cdk.CfnElement, stack.sweep.function.node.default_child))
        _acknowledge(
            stack.sweep.schedule_role,
            f"AwsSolutions::AwsSolutions-IAM5[Resource::<{function}.Arn>:*]",
            "CDK's grant_invoke adds the sweep function's versions and aliases (<arn>:*): this one function only.",
        )
