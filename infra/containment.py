"""Containment's infrastructure: the kill switch, what the events function may do to services, and the
Lambda lifecycle-hook function with the role ECS assumes to invoke it (docs/containment.md)."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import WatchdogConfig
from infra.functions import AUDIT_EVENT_BUS, watchdog_function
from infra.ingest import Ingest
from infra.state import StateTable

ACTION_TAG = "ecs-watchdog:action"  # contain/models.py: the per-service opt-out the Deny statement enforces
PREVIOUS_DESIRED_COUNT_TAG = "ecs-watchdog:previous-desired-count"  # the only tag the watchdog writes
# The hook answers from one GetItem and at most three ECS reads; ECS waits for it, so it must be quick.
HOOK_TIMEOUT = Duration.seconds(15)


class Containment(Construct):
    """The kill-switch parameter, the events function's containment permissions, and the deployment gate's
    Lambda hook (`hook_function`, invoked by ECS through `hook_invoke_role`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        ingest: Ingest,
        state: StateTable,
        events_role: iam.IRole,
        code: lambda_.Code,
    ) -> None:
        super().__init__(scope, construct_id)
        # Write permissions are granted only then. In approve mode the events function proposes and never acts:
        # an approval is carried out by the function that answers the Slack click, whose role holds the writes.
        self.enforces = config.mode == "enforce"
        self.kill_switch = ssm.StringParameter(
            self,
            "KillSwitch",
            parameter_name=config.kill_switch_parameter,
            string_value="off",
            description="ecs-watchdog containment kill switch: on stops every containment call within 30 s",
        )
        self._grant_events_function(events_role, config, ingest)
        self.hook_function, hook_role, self.hook_log_group = watchdog_function(
            self,
            "LifecycleHook",
            config=config,
            code=code,
            handler="ecs_watchdog.handlers.lifecycle_hook.handler",
            description="ecs-watchdog: deployment gate, an ECS Lambda lifecycle hook (fails open)",
            role_description="ecs-watchdog lifecycle hook function",
            memory_size=256,
            timeout=HOOK_TIMEOUT,
            environment={
                "STATE_TABLE_NAME": state.table.table_name,
                # Only in enforce may the hook answer FAILED (or wait): below it, SUCCEEDED (gate/lambda_hook.py).
                "WATCHDOG_MODE": config.mode,
                "KILL_SWITCH_PARAMETER": config.kill_switch_parameter,  # "on" lowers enforce to dry-run
                "POWERTOOLS_SERVICE_NAME": "ecs-watchdog",
                "POWERTOOLS_METRICS_NAMESPACE": "EcsWatchdog",
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        self._grant_hook_function(hook_role, state)
        # What a service's deploymentConfiguration.lifecycleHooks[].roleArn names: ECS assumes it to invoke
        # the hook, and it may invoke nothing else.
        self.hook_invoke_role = iam.Role(
            self,
            "LifecycleHookInvokeRole",
            # Only ECS acting for this account (confused deputy). No aws:SourceArn: we found no AWS page saying
            # ECS supplies one when it assumes a hook's role, and a condition on a key it does not send would
            # refuse every invocation — which rolls the deployment back.
            assumed_by=iam.ServicePrincipal(
                "ecs.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}}
            ),
            description="assumed by Amazon ECS to invoke the ecs-watchdog lifecycle hook function",
        )
        self.hook_invoke_role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeLifecycleHook",
                actions=["lambda:InvokeFunction"],
                resources=[self.hook_function.function_arn],
            )
        )

    def _arn(self, service: str, resource: str, name: str) -> str:
        return Stack.of(self).format_arn(service=service, resource=resource, resource_name=name)

    def _grant_events_function(self, role: iam.IRole, config: WatchdogConfig, ingest: Ingest) -> None:
        """The deployment gate's reads and its answer in every mode (it is built in every mode and fails
        open, CONTINUE, outside enforce: gate/pause.py); containment's reads in dry-run, approve and enforce
        (dry-run reports exact calls and approve proposes them, which needs them); writes only in enforce."""
        services = self._arn("ecs", "service", "*")
        deployments = self._arn("ecs", "service-deployment", "*")
        statements = [
            iam.PolicyStatement(
                sid="ReadServiceDeployments",  # the IN_PROGRESS deployment's ARN (aws/ecs_actions.py)
                actions=["ecs:ListServiceDeployments"],
                resources=[services],
            ),
            iam.PolicyStatement(
                sid="DescribeScalableTargets",
                # No resource-level permissions for Describe* in Application Auto Scaling: "*" is the only option.
                actions=["application-autoscaling:DescribeScalableTargets"],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="AnswerPauseHooks",
                # Every mode: a PAUSE hook a service owner pointed at the watchdog waits for an answer and,
                # unanswered, takes its timeout action (ROLLBACK by default). Authorized on BOTH the service and
                # the service deployment (Service Authorization Reference): both resource types are named.
                actions=["ecs:ContinueServiceDeployment"],
                resources=[services, deployments],
            ),
        ]
        if config.mode != "notify":
            statements += [
                iam.PolicyStatement(
                    sid="ReadKillSwitch", actions=["ssm:GetParameter"], resources=[self.kill_switch.parameter_arn]
                ),
                iam.PolicyStatement(
                    sid="EmitAuditEvents",
                    actions=["events:PutEvents"],
                    resources=[self._arn("events", "event-bus", AUDIT_EVENT_BUS)],
                ),
            ]
        if self.enforces:
            statements.append(
                iam.PolicyStatement(
                    # The deployment gate's timer: a delayed message on the events queue. Only enforce waits on
                    # an undecided revision; dry-run and notify answer CONTINUE at once.
                    sid="RecheckLater",
                    actions=["sqs:SendMessage"],
                    resources=[ingest.queue.queue_arn],
                )
            )
        if self.enforces:
            statements += self._enforce_statements(services, deployments)
        for statement in statements:
            role.add_to_principal_policy(statement)

    def _enforce_statements(self, services: str, deployments: str) -> list[iam.PolicyStatement]:
        return enforce_statements(Stack.of(self), services, deployments)

    def _grant_hook_function(self, role: iam.Role, state: StateTable) -> None:
        for statement in (
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.hook_log_group.log_group_arn],
            ),
            iam.PolicyStatement(
                sid="ReadServiceState", actions=["dynamodb:GetItem"], resources=[state.table.table_arn]
            ),
            iam.PolicyStatement(
                sid="MapRevisionToTaskDefinition",
                # Authorized on both the service and the service revision (Service Authorization Reference).
                actions=["ecs:DescribeServiceRevisions"],
                resources=[self._arn("ecs", "service", "*"), self._arn("ecs", "service-revision", "*")],
            ),
            iam.PolicyStatement(
                sid="SeeRollbacks",
                actions=["ecs:ListServiceDeployments"],
                resources=[self._arn("ecs", "service", "*")],
            ),
            iam.PolicyStatement(
                sid="ReadKillSwitch", actions=["ssm:GetParameter"], resources=[self.kill_switch.parameter_arn]
            ),
            iam.PolicyStatement(
                sid="ReadServiceModeTag",  # ecs-watchdog:action=notify|ignore lowers the mode: never FAILED
                actions=["ecs:ListTagsForResource"],
                resources=[self._arn("ecs", "service", "*")],
            ),
        ):
            role.add_to_policy(statement)


def enforce_statements(stack: Stack, services: str, deployments: str) -> list[iam.PolicyStatement]:
    """The writes containment makes in enforce mode (also granted to a member's containment role, infra/member.py,
    and, in approve and enforce mode, to the role of the function that carries Slack approvals out)."""
    # StopServiceDeployment and ContinueServiceDeployment are authorized on BOTH the service and the
    # service deployment (Service Authorization Reference): a statement must name both resource types.
    service_writes = ["ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StopServiceDeployment"]
    return [
        iam.PolicyStatement(sid="ContainServices", actions=["ecs:UpdateService"], resources=[services]),
        iam.PolicyStatement(
            sid="TagServicesWithPreviousDesiredCount",
            actions=["ecs:TagResource", "ecs:UntagResource"],
            resources=[services],
            # Only the watchdog's own tag: it can neither change a service's opt-out nor anyone's tags.
            conditions={"ForAllValues:StringEquals": {"aws:TagKeys": [PREVIOUS_DESIRED_COUNT_TAG]}},
        ),
        iam.PolicyStatement(
            sid="HonourIgnoreTag",
            # IAM enforces the per-service opt-out too, whatever the code does. StopServiceDeployment is
            # authorized on the service as well, so the service's tag reaches it. ContinueServiceDeployment
            # is left out on purpose: an unanswered PAUSE hook times out into its timeout action (ROLLBACK by
            # default), so denying the answer would roll back a deployment the owner asked the gate to
            # judge; the gate only answers services tagged ecs-watchdog:gate=on, which is the owner's opt-in.
            effect=iam.Effect.DENY,
            actions=service_writes,
            resources=[services, deployments],
            conditions={"StringEquals": {f"aws:ResourceTag/{ACTION_TAG}": "ignore"}},
        ),
        iam.PolicyStatement(
            sid="RollBackDeployments",
            actions=["ecs:StopServiceDeployment"],
            resources=[services, deployments],
        ),
        iam.PolicyStatement(
            sid="SuspendServiceScaling",
            # Scalable-target ARNs carry an opaque id, not the service: no narrower resource exists. The
            # targets already exist (read first), so no iam:CreateServiceLinkedRole is needed.
            actions=["application-autoscaling:RegisterScalableTarget"],
            resources=[
                stack.format_arn(service="application-autoscaling", resource="scalable-target", resource_name="*")
            ],
        ),
        iam.PolicyStatement(
            sid="PassTaskRolesOnRollback",
            # UpdateService to another revision passes that task definition's task and execution roles;
            # iam:PassedToService is ecs-tasks.amazonaws.com, the principal tasks assume them through
            # (as in AWS's managed policies AmazonECS_FullAccess and AmazonEC2ContainerServiceEventsRole).
            actions=["iam:PassRole"],
            resources=[stack.format_arn(service="iam", region="", resource="role", resource_name="*")],
            conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        ),
    ]
