"""`ecs-watchdog diagnose --local`: a service planted in the offline sandbox, so anyone can see the report.

The planted service is seed 001's backend as it would be once its task definition registers: everything
the probes look at exists (network with a way out, the image in ECR, the secret) except the CloudWatch
log group its `awslogs` driver writes to — the incident's missing log group. The report finds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from ecs_watchdog.replay.sandbox import ACCOUNT, REGION, local_account

CLUSTER = "pairva-cluster"
SERVICE = "pairva-backend"
MISSING_LOG_GROUP = "/aws/ecs/pairva-cluster"
IMAGE_REPOSITORY = "pairva-backend"
IMAGE_TAG = "1.0.1"


def plant_service(session: boto3.Session) -> str:
    """Create the planted service in the (moto) account behind `session`; returns its task definition ARN."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    group = ec2.create_security_group(GroupName="backend", Description="backend", VpcId=vpc)["GroupId"]
    ecr = session.client("ecr")
    ecr.create_repository(repositoryName=IMAGE_REPOSITORY)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
    ecr.put_image(repositoryName=IMAGE_REPOSITORY, imageManifest=json.dumps(manifest), imageTag=IMAGE_TAG)
    secret = session.client("secretsmanager").create_secret(Name="pairva/db", SecretString='{"password": "x"}')
    container: dict[str, Any] = {
        "name": "backend",
        "image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{IMAGE_REPOSITORY}:{IMAGE_TAG}",
        "essential": True,
        "memory": 512,
        "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
        "secrets": [{"name": "DB_PASSWORD", "valueFrom": f"{secret['ARN']}:password::"}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": MISSING_LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"},
        },
    }
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    registered = ecs.register_task_definition(
        family=SERVICE,
        executionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[container],
    )
    arn = str(registered["taskDefinition"]["taskDefinitionArn"])
    ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=arn,
        desiredCount=1,
        launchType="FARGATE",
        # moto drops deploymentConfiguration: with the ECS controller the breaker would always read as off.
        deploymentController={"type": "EXTERNAL"},
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "ENABLED"}
        },
    )
    return arn


@contextmanager
def planted_account() -> Iterator[boto3.Session]:
    """The offline sandbox with the planted service in it: a session whose calls never leave the process."""
    with local_account() as sandbox:
        plant_service(sandbox.session)
        yield sandbox.session
