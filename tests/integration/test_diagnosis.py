"""diagnose_service against a moto account: every probe runs, each isolated, with its calls recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ecs_watchdog.aws.diagnosis import diagnose_service
from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.probes import probe_load_balancer, probe_network
from ecs_watchdog.diagnose.model import ProbeName
from ecs_watchdog.diagnose.plan import probes_for
from tests.unit.diagnose.task_definitions import healthy

REGION = "us-east-1"


@dataclass
class Account:
    session: boto3.Session
    clients: ProbeClients
    subnet_id: str
    route_table_id: str
    target_group_arn: str
    service: dict[str, Any]
    task_definition: dict[str, Any]


def _network(ec2: Any) -> tuple[str, str, str]:
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return vpc, subnet, table


_DEPLOYMENT_SETTINGS: dict[str, Any] = {
    "healthCheckGracePeriodSeconds": 300,
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "minimumHealthyPercent": 100,
        "maximumPercent": 200,
    },
}


def _keep_deployment_settings(parsed: dict[str, Any], **_: Any) -> None:
    # moto 5.2.5 drops deploymentConfiguration and healthCheckGracePeriodSeconds: put back what we created.
    for described in parsed.get("services", []):
        described.update(_DEPLOYMENT_SETTINGS)


@pytest.fixture
def account() -> Iterator[Account]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        ec2 = session.client("ec2")
        vpc, subnet, table = _network(ec2)
        security_group = ec2.create_security_group(GroupName="frontend", Description="frontend", VpcId=vpc)["GroupId"]
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        group = session.client("elbv2").create_target_group(
            Name="pairva-frontend",
            Protocol="HTTP",
            Port=3000,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckPath="/health",
            HealthCheckIntervalSeconds=30,
            HealthyThresholdCount=5,
        )["TargetGroups"][0]["TargetGroupArn"]
        ecr = session.client("ecr")
        ecr.create_repository(repositoryName="pairva-frontend")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
        ecr.put_image(repositoryName="pairva-frontend", imageManifest=json.dumps(manifest), imageTag="1.0.0")
        session.client("logs").create_log_group(logGroupName="/ecs/pairva-frontend")
        secret = session.client("secretsmanager").create_secret(Name="pairva/db", SecretString='{"password": "x"}')
        definition = healthy()
        definition["containerDefinitions"][0]["secrets"] = [
            {"name": "DB_PASSWORD", "valueFrom": f"{secret['ARN']}:password::"}
        ]
        ecs = session.client("ecs")
        ecs.create_cluster(clusterName="pairva-cluster")
        registered = ecs.register_task_definition(**{k: v for k, v in definition.items() if k != "taskDefinitionArn"})[
            "taskDefinition"
        ]
        service = ecs.create_service(
            cluster="pairva-cluster",
            serviceName="pairva-frontend",
            taskDefinition=registered["taskDefinitionArn"],
            desiredCount=1,
            launchType="FARGATE",
            loadBalancers=[{"targetGroupArn": group, "containerName": "frontend", "containerPort": 3000}],
            healthCheckGracePeriodSeconds=300,
            deploymentConfiguration={
                "deploymentCircuitBreaker": {"enable": True, "rollback": True},
                "minimumHealthyPercent": 100,
                "maximumPercent": 200,
            },
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": [subnet],
                    "securityGroups": [security_group],
                    "assignPublicIp": "ENABLED",
                }
            },
        )["service"]
        clients = ProbeClients(session, REGION)
        clients.client("ecs").meta.events.register("after-call.ecs.DescribeServices", _keep_deployment_settings)
        service.update(_DEPLOYMENT_SETTINGS)
        yield Account(session, clients, subnet, table, group, service, registered)


def _allow_everything(iam: Stubber, resources: list[str], action: str) -> None:
    result = {"EvalActionName": action, "EvalResourceName": resources[0], "EvalDecision": "allowed"}
    iam.add_response("simulate_principal_policy", {"EvaluationResults": [result]})


def test_load_balancer_probe_passes_then_fails_on_a_health_check_port_mismatch(account: Account):
    assert probe_load_balancer(account.clients, account.service, account.task_definition).status == "pass"
    account.session.client("elbv2").modify_target_group(TargetGroupArn=account.target_group_arn, HealthCheckPort="8081")
    result = probe_load_balancer(account.clients, account.service, account.task_definition)
    assert result.status == "fail"
    assert result.summary == (
        "pairva-frontend: health check probes port 8081, but the container receives traffic on 3000"
    )


def test_network_probe_passes_with_a_public_ip_and_fails_without_one(account: Account):
    result = probe_network(account.clients, account.service, account.task_definition)
    assert result.status == "pass"
    assert result.evidence[0].startswith(f"{account.subnet_id}: ")
    assert result.evidence[0].endswith("free IP addresses, default route internet_gateway")
    private = {**account.service, "networkConfiguration": {"awsvpcConfiguration": {"subnets": [account.subnet_id]}}}
    result = probe_network(account.clients, private, account.task_definition)
    assert result.summary == (
        f"{account.subnet_id} has no route to ecr.api, ecr.dkr, s3, secretsmanager, logs: "
        "public subnet but assignPublicIp is DISABLED, and no VPC endpoint"
    )


def test_network_probe_accepts_vpc_endpoints_for_a_subnet_without_a_way_out(account: Account):
    ec2 = account.session.client("ec2")
    vpc, subnet, table = _network(ec2)
    for name in ("ecr.api", "ecr.dkr", "s3", "secretsmanager", "logs"):
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.{name}", RouteTableIds=[table])
    service = {"networkConfiguration": {"awsvpcConfiguration": {"subnets": [subnet]}}}
    assert probe_network(account.clients, service, account.task_definition).status == "pass"


def test_full_diagnosis_runs_every_probe_and_records_each_probes_calls(account: Account):
    with Stubber(account.clients.client("iam")) as iam:
        _allow_everything(iam, ["secret"], "secretsmanager:GetSecretValue")
        diagnosis = diagnose_service(account.clients, "pairva-cluster", "pairva-frontend", read_secret_values=True)
    statuses = {r.name: r.status for r in diagnosis.results}
    assert statuses == {name.value: "pass" for name in ProbeName}, [r for r in diagnosis.results if r.status != "pass"]
    calls = {run.result.name: run.api_calls for run in diagnosis.runs}
    assert calls["image"] == ("api.ecr.DescribeImages",)
    assert calls["secrets"] == ("secretsmanager.DescribeSecret", "secretsmanager.GetSecretValue")
    assert calls["secret_access"] == ("secretsmanager.DescribeSecret", "iam.SimulatePrincipalPolicy")
    assert calls["logging"] == ("logs.DescribeLogGroups",)
    assert calls["load_balancer"] == (
        "elasticloadbalancing.DescribeTargetGroups",
        "elasticloadbalancing.DescribeTargetHealth",
    )
    assert calls["network"] == ("ec2.DescribeSubnets", "ec2.DescribeRouteTables", "ec2.DescribeVpcEndpoints")
    assert calls["task_definition"] == calls["service_configuration"] == ()
    assert diagnosis.api_calls[:2] == ("ecs.DescribeServices", "ecs.DescribeTaskDefinition")
    assert len(diagnosis.api_calls) == 2 + sum(len(c) for c in calls.values())
    assert diagnosis.task_definition_arn == account.task_definition["taskDefinitionArn"]


def test_a_probe_that_errors_does_not_stop_the_others(account: Account):
    with Stubber(account.clients.client("iam")) as iam:
        iam.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized to simulate", 403)
        diagnosis = diagnose_service(account.clients, "pairva-cluster", "pairva-frontend")
    access = diagnosis.result(ProbeName.SECRET_ACCESS)
    assert access is not None
    assert access.status == "error"
    assert access.summary == "could not check: SimulatePrincipalPolicy: AccessDenied: not authorized to simulate"
    assert {r.status for r in diagnosis.results if r.name != ProbeName.SECRET_ACCESS} == {"pass"}


def test_diagnosis_of_a_category_runs_only_its_probes_and_confirms_a_missing_log_group(account: Account):
    account.session.client("logs").delete_log_group(logGroupName="/ecs/pairva-frontend")
    diagnosis = diagnose_service(account.clients, "pairva-cluster", "pairva-frontend", probes=probes_for("logging"))
    assert [r.name for r in diagnosis.results] == ["task_definition", "logging", "network"]
    assert diagnosis.confirms(frozenset({ProbeName.LOGGING}))


def test_unknown_service_makes_every_probe_an_error_without_raising(account: Account):
    diagnosis = diagnose_service(account.clients, "pairva-cluster", "no-such-service")
    assert {r.status for r in diagnosis.results} == {"error"}
    assert (
        diagnosis.results[0].summary
        == "could not check: ECS does not know service no-such-service in cluster pairva-cluster"
    )
    assert diagnosis.api_calls == ("ecs.DescribeServices",)
