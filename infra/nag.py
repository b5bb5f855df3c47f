"""cdk-nag AwsSolutions findings we reviewed and accept, each with its reason next to it."""

from __future__ import annotations

from typing import cast

import aws_cdk as cdk

from infra.stack import EcsWatchdogStack


def _acknowledge(construct: object, rule: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))  # type: ignore[arg-type]


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
        stack.functions.events_function.role,
        f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:{region}:{account}:service/*]",
        "The watchdog watches every ECS service in its account and region: DescribeServices on any of them.",
    )
    _acknowledge(
        stack.functions.events_function.role,
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Only ecs:DescribeTaskDefinition uses '*': it supports no resource-level permissions (IAM service reference).",
    )
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
