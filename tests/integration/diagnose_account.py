"""A small account with one service the probes can look at, built through any boto3 session (moto)."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.diagnose.task_definitions import healthy

CLUSTER = "pairva-cluster"
SERVICE = "pairva-frontend"
LOG_GROUP = "/ecs/pairva-frontend"


def create_diagnosable_service(session: Any) -> dict[str, str]:
    """Network with a way out, an ECR image, a log group, a secret, and a service using them.

    The service uses the EXTERNAL deployment controller: moto drops deploymentConfiguration, so an ECS
    controller would always read as "circuit breaker off". Returns the ARNs a test needs."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    security_group = ec2.create_security_group(GroupName="frontend", Description="frontend", VpcId=vpc)["GroupId"]
    ecr = session.client("ecr")
    ecr.create_repository(repositoryName="pairva-frontend")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
    ecr.put_image(repositoryName="pairva-frontend", imageManifest=json.dumps(manifest), imageTag="1.0.0")
    session.client("logs").create_log_group(logGroupName=LOG_GROUP)
    secret = session.client("secretsmanager").create_secret(Name="pairva/db", SecretString='{"password": "x"}')
    definition = healthy()
    definition["containerDefinitions"][0]["memory"] = 512  # moto's RunTask sums container memory
    definition["containerDefinitions"][0]["secrets"] = [
        {"name": "DB_PASSWORD", "valueFrom": f"{secret['ARN']}:password::"}
    ]
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    registered = ecs.register_task_definition(**{k: v for k, v in definition.items() if k != "taskDefinitionArn"})
    task_definition = registered["taskDefinition"]["taskDefinitionArn"]
    network = {
        "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [security_group], "assignPublicIp": "ENABLED"}
    }
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=task_definition,
        desiredCount=1,
        launchType="FARGATE",
        deploymentController={"type": "EXTERNAL"},
        networkConfiguration=network,
    )
    # moto's RunTask fails on awsvpc tasks; the look-up reads only a task's `group`, so a plain one does.
    plain = ecs.register_task_definition(
        family="plain", containerDefinitions=[{"name": "a", "image": "x", "memory": 128}]
    )
    run = {"cluster": CLUSTER, "taskDefinition": plain["taskDefinition"]["taskDefinitionArn"], "launchType": "FARGATE"}
    task = ecs.run_task(**run, group=f"service:{SERVICE}")
    standalone = ecs.run_task(**run)
    return {
        "task": task["tasks"][0]["taskArn"],
        "standalone_task": standalone["tasks"][0]["taskArn"],
        "task_definition": task_definition,
    }
