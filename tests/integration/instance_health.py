"""A container instance with a service's task on it (moto), and its documented health change events."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any

import boto3
from moto.ec2 import utils as ec2_utils

from tests.conftest import load_event
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, stamp


def instance_with_a_task_of(session: boto3.Session, service: str, cluster: str = CLUSTER) -> str:
    """A container instance of `cluster` (moto) running one task of `service`; its ARN. (moto's ListTasks
    by containerInstance fails on a cluster that also holds Fargate tasks: give it a cluster of its own
    where other tasks run.)"""
    ec2, ecs = session.client("ec2"), session.client("ecs")
    if not ecs.describe_clusters(clusters=[cluster])["clusters"]:
        ecs.create_cluster(clusterName=cluster)  # moto's CreateCluster replaces one that exists
    # An image of its own: the suite runs moto without its catalogue of public AMIs (a second of set-up
    # per account and region; tests/conftest.py).
    image = ec2.register_image(Name="ecs-optimized-test-image")["ImageId"]
    # The client, not boto3's resource: outside pytest, a run of tests/authz found no 'ec2' resource model.
    made = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    instance = SimpleNamespace(
        id=made["InstanceId"],
        placement=made["Placement"],
        private_ip_address=made.get("PrivateIpAddress"),
        instance_type=made.get("InstanceType"),
        image_id=made.get("ImageId"),
        kernel_id=made.get("KernelId"),
        ramdisk_id=made.get("RamdiskId"),
        architecture=made.get("Architecture"),
    )
    document = json.dumps(ec2_utils.generate_instance_identity_document(instance))
    arn = ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=document)["containerInstance"][
        "containerInstanceArn"
    ]
    ecs.register_task_definition(family="worker", containerDefinitions=[{"name": "w", "image": "w", "memory": 64}])
    ecs.start_task(cluster=cluster, taskDefinition="worker", containerInstances=[arn], group=f"service:{service}")
    return arn


def instance_health(instance_arn: str, status: str, minute: float, cluster: str = CLUSTER) -> dict[str, Any]:
    """The documented container instance health event, for that instance, status and minute."""
    event = copy.deepcopy(load_event("container_instance_health_ok"))
    event.update(account=ACCOUNT, region=REGION, time=stamp(minute), resources=[instance_arn])
    event["detail"].update(
        clusterArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster}",
        containerInstanceArn=instance_arn,
        overallStatus=status,
        healthChecks=[{"type": "CONTAINER_RUNTIME", "status": status, "statusReason": "docker daemon unresponsive"}],
    )
    return event
