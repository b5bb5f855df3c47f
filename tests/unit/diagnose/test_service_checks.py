"""Service configuration, load balancer and network checks, and which probes a category calls for."""

from __future__ import annotations

from typing import Any

from ecs_watchdog.diagnose.model import Diagnosis, ProbeName, ProbeRun, failed, passed
from ecs_watchdog.diagnose.network import SubnetView, assess_network, default_route, endpoints_needed
from ecs_watchdog.diagnose.plan import confirming_probes, probes_for
from ecs_watchdog.diagnose.service import assess_load_balancer, check_service_configuration
from tests.unit.diagnose.task_definitions import healthy

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/pairva-frontend/0123456789abcdef"


def _service(**overrides: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "serviceName": "pairva-frontend",
        "deploymentController": {"type": "ECS"},
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "minimumHealthyPercent": 100,
            "maximumPercent": 200,
        },
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "frontend", "containerPort": 3000}],
        "healthCheckGracePeriodSeconds": 300,
        "deployments": [{"id": "ecs-svc/1", "status": "PRIMARY", "rolloutState": "COMPLETED"}],
    }
    service.update(overrides)
    return service


def _target_group(**overrides: Any) -> dict[str, Any]:
    group: dict[str, Any] = {
        "TargetGroupArn": TG,
        "TargetGroupName": "pairva-frontend",
        "TargetType": "ip",
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckPath": "/health",
        "HealthCheckIntervalSeconds": 30,
        "HealthyThresholdCount": 5,
        "Matcher": {"HttpCode": "200"},
    }
    group.update(overrides)
    return group


def test_safe_service_configuration_passes():
    assert check_service_configuration(_service()).status == "pass"


def test_seed_002_and_004_service_configuration_risks_are_each_named():
    service = _service(
        deploymentConfiguration={"minimumHealthyPercent": 0, "maximumPercent": 200},
        healthCheckGracePeriodSeconds=0,
        deployments=[
            {"id": "ecs-svc/2", "status": "PRIMARY", "rolloutState": "IN_PROGRESS", "taskDefinition": "x/app:9"},
            {"id": "ecs-svc/3", "status": "ACTIVE", "rolloutState": "IN_PROGRESS", "taskDefinition": "x/app:9"},
        ],
    )
    result = check_service_configuration(service)
    assert result.status == "fail"
    assert [line.split(":")[0] for line in result.evidence] == [
        "deployment circuit breaker is off",
        "minimumHealthyPercent is 0",
        "no health check grace period with a load balancer",
        "2 deployments are in progress at once",
    ]


def test_circuit_breaker_is_not_asked_of_code_deploy_services():
    service = _service(deploymentController={"type": "CODE_DEPLOY"}, deploymentConfiguration={})
    assert check_service_configuration(service).status == "pass"


def test_matching_target_group_with_healthy_targets_passes():
    healthy_target = {"Target": {"Id": "10.0.1.5", "Port": 3000}, "TargetHealth": {"State": "healthy"}}
    result = assess_load_balancer(_service(), healthy(), {TG: _target_group()}, {TG: [healthy_target]})
    assert result.status == "pass"
    assert "pairva-frontend: health check HTTP port traffic-port path /health expects 200" in result.evidence


def test_health_check_on_another_port_than_the_container_fails():
    result = assess_load_balancer(_service(), healthy(), {TG: _target_group(HealthCheckPort="8080")}, {})
    assert result.status == "fail"
    assert result.summary == (
        "pairva-frontend: health check probes port 8080, but the container receives traffic on 3000"
    )


def test_service_port_the_container_does_not_map_fails():
    service = _service(loadBalancers=[{"targetGroupArn": TG, "containerName": "frontend", "containerPort": 80}])
    result = assess_load_balancer(service, healthy(), {TG: _target_group()}, {})
    assert result.summary == (
        "pairva-frontend: the service sends traffic to frontend:80, a port that container does not map"
    )


def test_seed_004_grace_period_shorter_than_time_to_healthy_fails():
    result = assess_load_balancer(_service(healthCheckGracePeriodSeconds=60), healthy(), {TG: _target_group()}, {})
    assert result.summary == (
        "pairva-frontend: grace period 60s is shorter than the 150s a new target needs to pass 5 checks 30s apart"
    )


def test_unhealthy_target_reason_is_quoted():
    unhealthy = {
        "Target": {"Id": "10.0.1.5", "Port": 3000},
        "TargetHealth": {
            "State": "unhealthy",
            "Reason": "Target.ResponseCodeMismatch",
            "Description": "Health checks failed with these codes: [404]",
        },
    }
    result = assess_load_balancer(_service(), healthy(), {TG: _target_group()}, {TG: [unhealthy]})
    assert result.status == "fail"
    assert result.summary == (
        "pairva-frontend: target 10.0.1.5:3000 is unhealthy "
        "(Target.ResponseCodeMismatch: Health checks failed with these codes: [404])"
    )


def test_instance_target_group_for_awsvpc_task_fails_and_missing_group_is_named():
    result = assess_load_balancer(_service(), healthy(), {TG: _target_group(TargetType="instance")}, {})
    assert "target type instance does not fit network mode awsvpc (needs ip)" in result.summary
    assert assess_load_balancer(_service(), healthy(), {}, {}).summary == f"target group {TG} does not exist"


def test_service_without_target_group_skips_the_load_balancer_probe():
    assert assess_load_balancer(_service(loadBalancers=[]), healthy(), {}, {}).status == "skipped"


def test_default_route_kinds():
    assert default_route([{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}]) == "internet_gateway"
    assert default_route([{"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"}]) == "nat_gateway"
    assert default_route([{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}]) == "none"
    blackhole = {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "blackhole"}
    assert default_route([blackhole]) == "none"


def test_endpoints_a_fargate_task_needs_before_it_starts():
    assert endpoints_needed(healthy()) == ("ecr.api", "ecr.dkr", "s3", "logs")


def test_public_subnet_without_public_ip_and_no_endpoints_fails():
    subnet = SubnetView("subnet-a", 200, "internet_gateway")
    result = assess_network([subnet], False, frozenset(), ("ecr.api", "logs"))
    assert result.summary == (
        "subnet-a has no route to ecr.api, logs: public subnet but assignPublicIp is DISABLED, and no VPC endpoint"
    )
    assert assess_network([subnet], True, frozenset(), ("ecr.api", "logs")).status == "pass"


def test_private_subnet_with_the_needed_endpoints_passes_and_full_subnet_fails():
    private = SubnetView("subnet-b", 12, "none")
    assert assess_network([private], False, frozenset({"ecr.api", "logs"}), ("ecr.api", "logs")).status == "pass"
    full = SubnetView("subnet-c", 0, "nat_gateway")
    result = assess_network([full], False, frozenset(), ("ecr.api",))
    assert result.summary == "subnet-c has no free IP address: no task can get a network interface there"


def test_probes_for_categories():
    assert probes_for("image")[0] == ProbeName.IMAGE
    assert probes_for("health_check_elb") == (ProbeName.LOAD_BALANCER, ProbeName.SERVICE_CONFIGURATION)
    assert probes_for("scaling") == ()
    assert set(probes_for("unknown")) == set(ProbeName)
    assert set(probes_for("a-category-added-later")) == set(ProbeName)


def test_diagnosis_confirms_only_with_a_confirming_probe_failing():
    diagnosis = Diagnosis(
        cluster="c",
        service="s",
        task_definition_arn=None,
        runs=(
            ProbeRun(result=failed(ProbeName.NETWORK, "no route")),
            ProbeRun(result=passed(ProbeName.IMAGE, "exists")),
        ),
    )
    assert not diagnosis.confirms(confirming_probes("image"))
    assert diagnosis.confirms(frozenset({ProbeName.NETWORK}))
    assert confirming_probes("oom") == frozenset()
