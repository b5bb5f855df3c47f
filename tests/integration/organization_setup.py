"""Organization mode on moto, shared by its integration test and the storm bench: member accounts with
services of their own (moto separates accounts by the credentials an AssumeRole returns), their events,
and the hub's settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.member_sessions import MemberSessions
from ecs_watchdog.replay.sandbox import LocalAccount
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from ecs_watchdog.wiring.settings import Settings
from tests.integration.incident_events import ACCOUNT, CLUSTER, IMAGE, REGION, SERVICE
from tests.integration.service_setup import publish_image


def in_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    """The same event, as ECS in `account` would send it (account field and every ARN)."""
    return json.loads(json.dumps(event).replace(ACCOUNT, account))


def assumed_session(sts: Any, account: str, role: str = "setup") -> boto3.Session:
    """The test's own session in `account` (moto: any role there may be assumed)."""
    answer = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=role)["Credentials"]
    return boto3.Session(
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
        region_name=REGION,
    )


def member_session(hub: LocalAccount, account: str) -> boto3.Session:
    return assumed_session(hub.session.client("sts"), account)


def create_member_service(
    hub: LocalAccount, account: str, completed: int, names: tuple[str, ...] = (SERVICE,), current: int | None = None
) -> None:
    """Services (`api`) in the member's own account, their last COMPLETED deployment on revision `completed`,
    deploying `current` (default: `completed`)."""
    session = member_session(hub, account)
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    publish_image(LocalAccount(session, hub.settings, hub.slack, hub.sns_capture_queue_url))
    image = IMAGE.replace(ACCOUNT, account)  # the member's own registry, where publish_image put it
    for _ in range(1, 8):
        ecs.register_task_definition(
            family="api", containerDefinitions=[{"name": "api", "image": image, "memory": 128}]
        )
    arn = f"arn:aws:ecs:{REGION}:{account}:task-definition/api"
    for name in names:
        revision = current or completed
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=f"api:{revision}", desiredCount=2)
        ecs_backends[account][REGION]._get_service(CLUSTER, name).deployments = [
            {
                "id": "ecs-svc/2000000000000000002",
                "status": "PRIMARY",
                "taskDefinition": f"{arn}:6",
                "rolloutState": "IN_PROGRESS",
            },
            {
                "id": "ecs-svc/1",
                "status": "ACTIVE",
                "taskDefinition": f"{arn}:{completed}",
                "rolloutState": "COMPLETED",
            },
        ]


def hub_settings(hub: LocalAccount, members: str) -> Settings:
    """The hub's settings in organization mode, acting for `members` (comma-separated account ids)."""
    return hub.settings.model_copy(
        update={
            "member_accounts": members,
            "member_read_role": "ecs-watchdog-read",
            "member_external_id": f"ecs-watchdog-hub-{ACCOUNT}",
        }
    )


@contextmanager
def deployments_per_member() -> Iterator[dict[str, ServiceDeploymentCalls]]:
    """moto lacks the service-deployment APIs: each member session the hub opens gets the simulator's
    answers, per account (account id → its calls)."""
    deployments: dict[str, ServiceDeploymentCalls] = {}
    original = MemberSessions.session

    def with_deployments(self: MemberSessions, account: str, role_name: str) -> boto3.Session:
        session = original(self, account, role_name)
        if account not in deployments:
            deployments[account] = ServiceDeploymentCalls(account, REGION)
            deployments[account].install(session)
        return session

    with mock.patch.object(MemberSessions, "session", with_deployments):
        yield deployments
