"""From ECS to the watchdog: EventBridge rules → an SQS buffer (with DLQs) the function drains.

The queue is the buffer a crash loop needs: a service failing every few seconds emits thousands of
events, and the function reads them at a bounded concurrency instead of being invoked per event.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# The event pattern of the first rule: STOPPED tasks that belong to a service.
STOPPED_SERVICE_TASKS_PATTERN = {
    "source": ["aws.ecs"],
    "detail_type": ["ECS Task State Change"],
    "detail": {"lastStatus": ["STOPPED"], "group": [{"prefix": "service:"}]},
}


# Deployment state changes (IN_PROGRESS, COMPLETED, FAILED): last known good and stuck deployments.
DEPLOYMENT_STATE_PATTERN = {"source": ["aws.ecs"], "detail_type": ["ECS Deployment State Change"], "detail": None}

# Service actions: every WARN and ERROR (start impaired, placement and configuration failures, throttling,
# unhealthy service discovery instances, ...) plus the one INFO event the engine needs, steady state.
# The other INFO events (desired count updates, task set and capacity provider steady states) are noise.
SERVICE_ACTION_EVENT_TYPES = ["WARN", "ERROR"]
SERVICE_ACTION_INFO_EVENTS = ["SERVICE_STEADY_STATE"]
SERVICE_ACTION_PATTERN = {
    "source": ["aws.ecs"],
    "detail_type": ["ECS Service Action"],
    "detail": {"$or": [{"eventType": SERVICE_ACTION_EVENT_TYPES}, {"eventName": SERVICE_ACTION_INFO_EVENTS}]},
}

# Deployment lifecycle hooks (ECS Hook State Change, e.g. HOOK_AWAITING_ACTION of a PAUSE hook): the deployment
# gate answers them. Not filtered on the detail: they are few (one per hook state change), and the function
# ignores the states it does not answer, so a new state ECS adds is logged rather than silently dropped.
HOOK_STATE_CHANGE_PATTERN = {"source": ["aws.ecs"], "detail_type": ["ECS Hook State Change"], "detail": None}

# Container instance health (EC2 and ECS Managed Instances): IMPAIRED opens the cluster's infrastructure
# incident, OK resolves it; never a rollback. Every status goes through: the function says what it ignores.
CONTAINER_INSTANCE_HEALTH_PATTERN = {
    "source": ["aws.ecs"],
    "detail_type": ["ECS Container Instance Health Change"],
    "detail": None,
}

# Failed ECS API calls CloudTrail records (only in accounts with a trail): a rejected RegisterTaskDefinition
# stops no task, so no other event shows it (seed 001). Mirrors OPERATION_CATEGORIES in api_errors/findings.py.
ECS_API_CALL_OPERATIONS = [
    "RegisterTaskDefinition",
    "CreateService",
    "UpdateService",
    "DeleteService",
    "CreateTaskSet",
    "UpdateTaskSet",
    "UpdateServicePrimaryTaskSet",
    "RunTask",
    "StartTask",
    "StopServiceDeployment",
    "ContinueServiceDeployment",
]
ECS_API_CALL_ERROR_PATTERN = {
    "source": ["aws.ecs"],
    "detail_type": ["AWS API Call via CloudTrail"],
    "detail": {
        "eventSource": ["ecs.amazonaws.com"],
        "eventName": ECS_API_CALL_OPERATIONS,
        "errorCode": [{"exists": True}],
    },
}


class Ingest(Construct):
    """Rules on the default bus, the events queue, its DLQ, and a DLQ for failed rule deliveries."""

    def __init__(
        self, scope: Construct, construct_id: str, *, consumer_timeout: Duration, max_receive_count: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "EventsDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # AWS guidance: at least six times the consumer's timeout, so retries do not overlap.
        self.visibility_timeout = Duration.seconds(consumer_timeout.to_seconds() * 6)
        self.queue = sqs.Queue(
            self,
            "EventsQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,  # EventBridge can deliver to SSE-SQS without a key grant
            enforce_ssl=True,
            visibility_timeout=self.visibility_timeout,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=max_receive_count),
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Events EventBridge could not put on the queue (throttled, queue deleted, policy wrong).
        self.delivery_dead_letter_queue = sqs.Queue(
            self,
            "DeliveryDlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stopped_service_tasks = self._rule(
            "StoppedServiceTasks", "STOPPED tasks of ECS services", STOPPED_SERVICE_TASKS_PATTERN
        )
        self.deployment_state_changes = self._rule(
            "DeploymentStateChanges", "ECS service deployment state changes", DEPLOYMENT_STATE_PATTERN
        )
        self.service_actions = self._rule("ServiceActions", "ECS service actions", SERVICE_ACTION_PATTERN)
        self.hook_state_changes = self._rule(
            "HookStateChanges", "ECS deployment lifecycle hook state changes", HOOK_STATE_CHANGE_PATTERN
        )
        self.api_call_errors = self._rule(
            "EcsApiCallErrors", "failed ECS API calls recorded by CloudTrail", ECS_API_CALL_ERROR_PATTERN
        )
        self.container_instance_health = self._rule(
            "ContainerInstanceHealth", "ECS container instance health changes", CONTAINER_INSTANCE_HEALTH_PATTERN
        )
        self.hub_rules: list[events.Rule] = []

    def forward_from(self, bus: events.IEventBus) -> None:
        """Rules on the hub's bus (organization mode): the members' ECS events, with today's patterns, onto
        the same queue. Call before `only_these_may_send`, which must name these rules too."""
        for construct_id, what, pattern in (
            ("HubStoppedServiceTasks", "STOPPED tasks of member services", STOPPED_SERVICE_TASKS_PATTERN),
            ("HubDeploymentStateChanges", "member deployment state changes", DEPLOYMENT_STATE_PATTERN),
            ("HubServiceActions", "member service actions", SERVICE_ACTION_PATTERN),
            ("HubEcsApiCallErrors", "members' failed ECS API calls", ECS_API_CALL_ERROR_PATTERN),
            ("HubContainerInstanceHealth", "member container instance health", CONTAINER_INSTANCE_HEALTH_PATTERN),
            # A gated member service's PAUSE hooks, answered through the member's role (docs/organization.md).
            ("HubHookStateChanges", "member deployment lifecycle hook state changes", HOOK_STATE_CHANGE_PATTERN),
        ):
            self.hub_rules.append(self._rule(construct_id, what, pattern, bus))

    def only_these_may_send(self, senders: list[str]) -> None:
        """Deny sqs:SendMessage on the events queue to everyone but the watchdog's own rules and `senders`
        (the events function's role, which re-queues the gate's rechecks, and any operator roles allowed to
        redrive): whoever else can send to it could drive containment with forged ECS events."""
        rules = [
            r.rule_arn
            for r in (
                self.stopped_service_tasks,
                self.deployment_state_changes,
                self.service_actions,
                self.hook_state_changes,
                self.api_call_errors,
                self.container_instance_health,
                *self.hub_rules,
            )
        ]
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyTheWatchdogsRulesAndRolesSend",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                # Both must differ for the Deny to apply: EventBridge sends with its rule as aws:SourceArn, a
                # role with its ARN as aws:PrincipalArn (a key absent from a request makes ArnNotEquals true).
                conditions={"ArnNotEquals": {"aws:SourceArn": rules, "aws:PrincipalArn": senders}},
            )
        )

    def _rule(self, construct_id: str, what: str, pattern: dict, bus: events.IEventBus | None = None) -> events.Rule:
        rule = events.Rule(
            self,
            construct_id,
            event_bus=bus,
            description=f"ecs-watchdog: {what}",
            event_pattern=events.EventPattern(
                source=pattern["source"], detail_type=pattern["detail_type"], detail=pattern["detail"]
            ),
        )
        # CDK also grants EventBridge SendMessage on the delivery DLQ for this rule.
        rule.add_target(self._queue_target())
        return rule

    def _queue_target(self) -> targets.SqsQueue:
        return targets.SqsQueue(
            self.queue,
            dead_letter_queue=self.delivery_dead_letter_queue,
            retry_attempts=10,
            max_event_age=Duration.hours(6),
        )
