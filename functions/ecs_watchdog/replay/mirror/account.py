"""The scenario's account in moto, created from its `environment` and services so that probes see what AWS
would show: ECR images, secrets, log groups, target groups (with the ARNs the model writes in stop
reasons), the cluster, every task definition revision and the services.

Only ever used under `moto.mock_aws`; after creation, moto owns everything here but the services' state.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3

from ecs_watchdog.replay.envelopes import ACCOUNT_ID
from ecs_watchdog.replay.offline_iam import answer_simulations
from ecs_watchdog.replay.scenario import Deploy, Scenario, ServiceSpec
from ecs_watchdog.replay.scheduler import Scheduler

EXECUTION_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/ecsTaskExecutionRole"
TEST_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def new_session(region: str) -> boto3.Session:
    """A boto3 session with moto's test credentials (only ever used under `moto.mock_aws`); what moto
    cannot answer about IAM, it says in words (offline_iam.py)."""
    session = boto3.Session(region_name=region, **TEST_CREDENTIALS)
    answer_simulations(session)
    return session


class ScenarioAccount:
    """Creates the scenario's resources in moto, on a session of its own."""

    def __init__(self, scenario: Scenario, scheduler: Scheduler) -> None:
        self.scenario = scenario
        self.scheduler = scheduler
        self._session = new_session(scenario.region)
        self._ecs: Any = None
        self._secret_arns: dict[str, str] = {}
        self._target_group_arns: dict[str, str] = {}

    def create_environment(self) -> None:
        """ECR images, secrets, log groups and target groups from the scenario's `environment`."""
        env = self.scenario.environment
        ecr = self._session.client("ecr")
        repositories: set[str] = set()
        for image in env.ecr_images:
            repository, tag = image.split("/", 1)[1].rsplit(":", 1)
            if repository not in repositories:
                ecr.create_repository(repositoryName=repository)
                repositories.add(repository)
            digest = hashlib.sha256(image.encode()).hexdigest()
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{digest}"},
                "layers": [],
            }
            ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
        secrets = self._session.client("secretsmanager")
        for name, value in env.secrets:
            self._secret_arns[name] = secrets.create_secret(Name=name, SecretString=value)["ARN"]
        logs = self._session.client("logs")
        for group in env.log_groups:
            logs.create_log_group(logGroupName=group)
        if env.target_groups:
            self._create_target_groups(env.target_groups)

    def create_cluster(self) -> Any:
        """The scenario's cluster; returns the ECS client that created it."""
        self._ecs = self._session.client("ecs")
        self._ecs.create_cluster(clusterName=self.scenario.cluster)
        return self._ecs

    def create_service(self, spec: ServiceSpec) -> None:
        """Every task definition revision of one service, then the service (after `create_cluster`)."""
        self._register_task_definitions(spec)
        self._create_service(spec)

    def _create_target_groups(self, names: tuple[str, ...]) -> None:
        from moto.elbv2.models import elbv2_backends

        ec2 = self._session.client("ec2")
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        elbv2 = self._session.client("elbv2")
        backend = elbv2_backends[ACCOUNT_ID][self.scenario.region]
        for name in names:
            created = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip")
            moto_arn = created["TargetGroups"][0]["TargetGroupArn"]
            # Give moto's copy the ARN that the model writes into ELB health-check stop reasons.
            wanted = self.scheduler.target_group_arn(name)
            group = backend.target_groups.pop(moto_arn)
            group.arn = wanted
            backend.target_groups[wanted] = group
            self._target_group_arns[name] = wanted

    def _secret_arn(self, name: str) -> str:
        # A secret missing from the environment still gets a well-formed ARN: probes find it missing.
        return self._secret_arns.get(name) or (
            f"arn:aws:secretsmanager:{self.scenario.region}:{ACCOUNT_ID}:secret:{name}-AbCdEf"
        )

    def _container_definitions(self, spec: ServiceSpec, number: int) -> list[dict[str, Any]]:
        revision = spec.revision(number)
        definitions = []
        for container in revision.containers:
            definition: dict[str, Any] = {
                "name": container.name,
                "image": revision.image,
                "essential": container.essential,
                "memory": 512,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
            if container.essential and revision.secrets:
                definition["secrets"] = [
                    {"name": env, "valueFrom": self._secret_arn(secret)} for env, secret in revision.secrets
                ]
            if revision.log_group:
                definition["logConfiguration"] = {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": revision.log_group,
                        "awslogs-region": self.scenario.region,
                        "awslogs-stream-prefix": spec.name,
                    },
                }
            definitions.append(definition)
        return definitions

    def _register_task_definitions(self, spec: ServiceSpec) -> None:
        # moto numbers revisions 1, 2, ...: register placeholders for numbers the scenario skips.
        numbers = {r.revision for r in spec.revisions}
        filler = min(numbers)
        for number in range(1, max(numbers) + 1):
            self._ecs.register_task_definition(
                family=spec.name,
                containerDefinitions=self._container_definitions(spec, number if number in numbers else filler),
                executionRoleArn=EXECUTION_ROLE_ARN,
                networkMode="awsvpc",
                requiresCompatibilities=[spec.launch_type],
                cpu="256",
                memory="512",
            )
            if number not in numbers:
                self._ecs.deregister_task_definition(taskDefinition=f"{spec.name}:{number}")

    def _create_service(self, spec: ServiceSpec) -> None:
        # A brand-new service is created in moto with its first deployment's revision (moto needs one).
        deploys = [
            e.action.revision
            for e in self.scenario.timeline
            if isinstance(e.action, Deploy) and e.action.service == spec.name
        ]
        first = spec.running_revision
        if first is None:
            first = deploys[0] if deploys else spec.revisions[0].revision
        revision = spec.revision(first)
        kwargs: dict[str, Any] = {}
        if revision.target_group in self._target_group_arns:
            kwargs["loadBalancers"] = [
                {
                    "targetGroupArn": self._target_group_arns[revision.target_group],
                    "containerName": revision.essential_container.name,
                    "containerPort": 80,
                }
            ]
        self._ecs.create_service(
            cluster=self.scenario.cluster,
            serviceName=spec.name,
            taskDefinition=f"{spec.name}:{first}",
            desiredCount=spec.desired_count,
            launchType=spec.launch_type,
            tags=[{"key": k, "value": v} for k, v in spec.tags],
            **kwargs,
        )
