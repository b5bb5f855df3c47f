"""An ECS service in the moto sandbox, and the Lambda handler invoked as SQS would invoke it."""

from __future__ import annotations

import json
from typing import Any

from moto.ecs.models import ecs_backends

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, sqs_batch
from ecs_watchdog.replay.sandbox import LocalAccount
from tests.integration.incident_events import ACCOUNT, CLUSTER, IMAGE, REGION, SERVICE, td


def publish_image(account: LocalAccount, repository: str = "api", tag: str = "v9") -> None:
    """The image the task definitions name exists in ECR, so the image probe does not confirm a pull
    failure by itself: these tests exercise the loop rules (a missing image is probed in test_probes)."""
    ecr = account.session.client("ecr")
    ecr.create_repository(repositoryName=repository)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "digest": "sha256:" + "0" * 64,
                "size": 1,
                "mediaType": "application/vnd.docker.container.image.v1+json",
            },
            "layers": [],
        }
    )
    ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)


def create_service(
    account: LocalAccount,
    name: str = SERVICE,
    *,
    completed: int | None = 5,
    in_progress: tuple[int, ...] = (6,),
    tags: dict[str, str] | None = None,
) -> None:
    """A service in moto whose deployments say what DescribeServices would: one COMPLETED, some IN_PROGRESS."""
    ecs = account.session.client("ecs")
    if not ecs.describe_clusters(clusters=[CLUSTER])["clusters"]:
        ecs.create_cluster(clusterName=CLUSTER)
        publish_image(account)
    for _ in range(1, 8):  # revisions 1..7 of family api
        ecs.register_task_definition(
            family="api", containerDefinitions=[{"name": "api", "image": IMAGE, "memory": 128}]
        )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=td(in_progress[0] if in_progress else 5),
        desiredCount=2,
        tags=[{"key": k, "value": v} for k, v in (tags or {}).items()],
    )
    deployments = [
        {
            "id": f"ecs-svc/{2000000000000000000 + r}",
            "status": "PRIMARY" if i == 0 else "ACTIVE",
            "taskDefinition": td(r),
            "rolloutState": "IN_PROGRESS",
        }
        for i, r in enumerate(in_progress)
    ]
    if completed is not None:
        deployments.append(
            {
                "id": "ecs-svc/1000000000000000001",
                "status": "PRIMARY" if not in_progress else "ACTIVE",
                "taskDefinition": td(completed),
                "rolloutState": "COMPLETED",
            }
        )
    ecs_backends[ACCOUNT][REGION]._get_service(CLUSTER, name).deployments = deployments


def invoke(events: list[str], receive_count: int = 1) -> dict[str, Any]:
    return ecs_events.handler(sqs_batch(events, receive_count=receive_count), LocalLambdaContext())
