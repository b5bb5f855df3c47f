"""Ready console test events for the functions: Lambda shareable test events are schemas named
`_<FunctionName>-schema` (OpenAPI 3, events under `components.examples.<name>.value`) in the EventBridge
schema registry `lambda-testevent-schemas`. The registry often exists already (the console creates it
with the first shared event), so it is created only when `watchdog:create_test_event_registry` is true.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Fn, Stack
from aws_cdk import aws_eventschemas as eventschemas
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

TEST_EVENT_REGISTRY = "lambda-testevent-schemas"
EXAMPLE_CLUSTER = "my-cluster"
EXAMPLE_SERVICE = "my-service"


def _task_arn(account: str, region: str) -> str:
    return f"arn:aws:ecs:{region}:{account}:task/{EXAMPLE_CLUSTER}/0123456789abcdef0123456789abcdef"


def events_function_examples(account: str, region: str) -> dict[str, dict[str, Any]]:
    """Raw EventBridge events the events function accepts from the console (docs/console.md), in this
    account and region (events of another are ignored): a failed start, a failed deployment, a service action."""
    task = _task_arn(account, region)
    service_arn = f"arn:aws:ecs:{region}:{account}:service/{EXAMPLE_CLUSTER}/{EXAMPLE_SERVICE}"
    cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{EXAMPLE_CLUSTER}"
    envelope = {"version": "0", "source": "aws.ecs", "account": account, "region": region}
    return {
        "task-stopped-image-not-found": {
            **envelope,
            "id": "3f1c2a9e-7d4b-4e11-9c55-0a6b1e2d3c4f",
            "detail-type": "ECS Task State Change",
            "time": "2025-07-21T08:03:00Z",
            "resources": [task],
            "detail": {
                "clusterArn": cluster_arn,
                "taskArn": task,
                "taskDefinitionArn": f"arn:aws:ecs:{region}:{account}:task-definition/{EXAMPLE_SERVICE}:6",
                "group": f"service:{EXAMPLE_SERVICE}",
                "launchType": "FARGATE",
                "lastStatus": "STOPPED",
                "desiredStatus": "STOPPED",
                "stopCode": "TaskFailedToStart",
                "stoppedReason": (
                    "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve "
                    f"ref {account}.dkr.ecr.{region}.amazonaws.com/{EXAMPLE_SERVICE}:1.0.1: not found"
                ),
                "containers": [
                    {
                        "name": "app",
                        "image": f"{account}.dkr.ecr.{region}.amazonaws.com/{EXAMPLE_SERVICE}:1.0.1",
                        "lastStatus": "STOPPED",
                        "taskArn": task,
                    }
                ],
                "createdAt": "2025-07-21T08:02:10.000Z",
                "stoppingAt": "2025-07-21T08:02:58.000Z",
                "stoppedAt": "2025-07-21T08:03:00.000Z",
                "version": 4,
            },
        },
        "deployment-failed": {
            **envelope,
            "id": "8b0e6f4d-2c1a-4f3e-9d7b-5a4c3b2a1f0e",
            "detail-type": "ECS Deployment State Change",
            "time": "2025-07-21T08:40:00Z",
            "resources": [service_arn],
            "detail": {
                "eventType": "ERROR",
                "eventName": "SERVICE_DEPLOYMENT_FAILED",
                "deploymentId": "ecs-svc/1234567890123456789",
                "updatedAt": "2025-07-21T08:40:00Z",
                "reason": "ECS deployment circuit breaker: task failed to start.",
            },
        },
        "service-task-start-impaired": {
            **envelope,
            "id": "57c9506e-9d21-294c-d2fe-e8738da7e67d",
            "detail-type": "ECS Service Action",
            "time": "2025-07-21T08:20:00Z",
            "resources": [service_arn],
            "detail": {
                "eventType": "WARN",
                "eventName": "SERVICE_TASK_START_IMPAIRED",
                "clusterArn": cluster_arn,
                "createdAt": "2025-07-21T08:20:00.000Z",
            },
        },
    }


def diagnose_function_examples(account: str, region: str) -> dict[str, dict[str, Any]]:
    """Requests the diagnose function accepts (docs/diagnose.md): by service, and by task with posting."""
    return {
        "diagnose-service": {"cluster": EXAMPLE_CLUSTER, "service": EXAMPLE_SERVICE},
        "diagnose-task-and-post": {"taskArn": _task_arn(account, region), "post": True},
    }


def shareable_test_event_schema(examples: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3 document the Lambda console reads shareable test events from."""
    return {
        "openapi": "3.0.0",
        "info": {"version": "1.0.0", "title": "Event"},
        "paths": {},
        "components": {
            "schemas": {"Event": {"type": "object"}},
            "examples": {name: {"value": value} for name, value in examples.items()},
        },
    }


class ConsoleTestEvents(Construct):
    """One shareable test-event schema per function, and the registry when asked for."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        events_function: lambda_.IFunction,
        diagnose_function: lambda_.IFunction,
        create_registry: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.registry: eventschemas.CfnRegistry | None = None
        if create_registry:
            self.registry = eventschemas.CfnRegistry(
                self,
                "Registry",
                registry_name=TEST_EVENT_REGISTRY,
                description="Lambda shareable test events",
            )
        self.schemas: list[eventschemas.CfnSchema] = []
        for schema_id, function, examples in (
            ("EventsFunctionTestEvents", events_function, events_function_examples(Aws.ACCOUNT_ID, Aws.REGION)),
            ("DiagnoseFunctionTestEvents", diagnose_function, diagnose_function_examples(Aws.ACCOUNT_ID, Aws.REGION)),
        ):
            schema = eventschemas.CfnSchema(
                self,
                schema_id,
                registry_name=TEST_EVENT_REGISTRY,
                schema_name=Fn.join("", ["_", function.function_name, "-schema"]),
                type="OpenApi3",
                content=stack.to_json_string(shareable_test_event_schema(examples)),
                description="ecs-watchdog console test events",
            )
            if self.registry is not None:
                schema.add_dependency(self.registry)
            self.schemas.append(schema)
