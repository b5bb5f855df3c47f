"""Platform trouble end to end against moto: the real handler tells the cluster once and rolls nothing back."""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.ec2 import utils as ec2_utils

from ecs_watchdog.aws.instance_tasks import InstanceTasks
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.replay.sandbox import LocalAccount
from tests.conftest import load_event
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, bodies, stamp, stopped
from tests.integration.service_setup import invoke

ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."


def test_network_interface_timeouts_open_one_cluster_incident_and_no_service_incident(account):
    invoke(bodies(*(stopped(n, n, reason=ENI_TIMEOUT) for n in range(1, 5))))
    (message,) = account.sns_messages()  # one message for the cluster, however many tasks fail
    assert message["Subject"].startswith(f"[ecs-watchdog] OPENED cluster {CLUSTER}: Infrastructure trouble")
    assert f"{CLUSTER}/{SERVICE}" in message["Message"] and "No rollback fixes this" in message["Message"]
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert state is not None and state.incidents == {}  # never the service's failure loop


def _instance_with_a_task_of(account: LocalAccount, service: str) -> str:
    ec2, ecs = account.session.client("ec2"), account.session.client("ecs")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    instance = account.session.resource("ec2").create_instances(ImageId=image, MinCount=1, MaxCount=1)[0]
    document = json.dumps(ec2_utils.generate_instance_identity_document(instance))
    arn = ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=document)["containerInstance"][
        "containerInstanceArn"
    ]
    ecs.register_task_definition(family="worker", containerDefinitions=[{"name": "w", "image": "w", "memory": 64}])
    ecs.start_task(cluster=CLUSTER, taskDefinition="worker", containerInstances=[arn], group=f"service:{service}")
    return arn


def _health(instance_arn: str, status: str, minute: float) -> dict[str, Any]:
    event = copy.deepcopy(load_event("container_instance_health_ok"))
    event.update(account=ACCOUNT, region=REGION, time=stamp(minute), resources=[instance_arn])
    event["detail"].update(
        clusterArn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
        containerInstanceArn=instance_arn,
        overallStatus=status,
        healthChecks=[{"type": "CONTAINER_RUNTIME", "status": status, "statusReason": "docker daemon unresponsive"}],
    )
    return event


def test_an_impaired_instance_is_told_once_naming_its_services_and_ok_resolves_it(account):
    instance = _instance_with_a_task_of(account, SERVICE)
    invoke(bodies(_health(instance, "IMPAIRED", 1)))
    invoke(bodies(_health(instance, "IMPAIRED", 1)))  # SQS delivered it again
    (opened,) = account.sns_messages()
    assert f"OPENED cluster {CLUSTER}" in opened["Subject"]
    assert f"{CLUSTER}/{SERVICE}" in opened["Message"] and "CONTAINER_RUNTIME IMPAIRED" in opened["Message"]
    invoke(bodies(_health(instance, "OK", 30)))
    (resolved,) = account.sns_messages()
    assert resolved["Subject"].startswith(f"[ecs-watchdog] RESOLVED cluster {CLUSTER}")


def test_the_services_on_an_instance_come_from_its_tasks(account):
    instance = _instance_with_a_task_of(account, "billing")
    assert InstanceTasks(account.session.client("ecs")).services_on(CLUSTER, instance) == ["billing"]
    assert InstanceTasks(account.session.client("ecs")).services_on("no-such-cluster", instance) == []
