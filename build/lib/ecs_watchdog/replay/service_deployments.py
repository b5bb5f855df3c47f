"""Answers, in the local sandbox, the ECS service-deployment calls moto 5.2.5 does not implement.

`ListServiceDeployments`, `DescribeServiceDeployments` and `StopServiceDeployment` are answered from
moto's own service (its `deployments`), in the real API's shapes (botocore model), through a
`before-call.ecs.<Operation>` hook on the sandbox's session; a rollback makes the last COMPLETED
deployment's revision the service's again, as ECS does. Every call is recorded for tests to read.
Never in a Lambda package; the simulator's mirror has its own, richer model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.ecs.models import ecs_backends

HANDLED = ("ListServiceDeployments", "DescribeServiceDeployments", "StopServiceDeployment")


@dataclass
class ServiceDeploymentCalls:
    """The hook and what it answered."""

    account: str
    region: str
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def install(self, session: boto3.Session) -> None:
        for operation in HANDLED:
            session.events.register(f"before-call.ecs.{operation}", self._answer, unique_id=f"sandbox-{operation}")

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params.get("body") or b"{}")  # `params` is the serialized request (JSON protocol)
        self.calls.append((model.name, request))
        body = getattr(self, f"_{model.name}")(request)
        return AWSResponse("https://ecs.local", 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}

    def _service(self, cluster: str, service: str) -> Any:
        return ecs_backends[self.account][self.region]._get_service(
            cluster.rsplit("/", 1)[-1], service.rsplit("/", 1)[-1]
        )

    def _arn(self, cluster: str, service: str, deployment_id: str) -> str:
        return (
            f"arn:aws:ecs:{self.region}:{self.account}:service-deployment/{cluster}/{service}/"
            f"{deployment_id.rsplit('/', 1)[-1]}"
        )

    def _ListServiceDeployments(self, params: dict[str, Any]) -> dict[str, Any]:
        cluster, name = params.get("cluster", "default"), params["service"]
        service = self._service(cluster, name)
        wanted = set(params.get("status") or [])
        found = []
        for d in service.deployments:
            status = {"IN_PROGRESS": "IN_PROGRESS", "COMPLETED": "SUCCESSFUL", "FAILED": "ROLLBACK_SUCCESSFUL"}.get(
                d.get("rolloutState", ""), "SUCCESSFUL"
            )
            if wanted and status not in wanted:
                continue
            found.append(
                {
                    "serviceDeploymentArn": self._arn(cluster.rsplit("/", 1)[-1], service.name, d["id"]),
                    "serviceArn": service.arn,
                    "clusterArn": f"arn:aws:ecs:{self.region}:{self.account}:cluster/{cluster.rsplit('/', 1)[-1]}",
                    "status": status,
                    "createdAt": datetime.now(UTC),
                }
            )
        return {"serviceDeployments": found}

    def _DescribeServiceDeployments(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"serviceDeployments": [{"serviceDeploymentArn": arn} for arn in params["serviceDeploymentArns"]]}

    def _StopServiceDeployment(self, params: dict[str, Any]) -> dict[str, Any]:
        arn = params["serviceDeploymentArn"]
        _, cluster, name, _ = arn.split(":", 5)[5].split("/")
        service = self._service(cluster, name)
        completed = [d for d in service.deployments if d.get("rolloutState") == "COMPLETED"]
        if completed:
            service.task_definition = completed[0]["taskDefinition"]
            for d in service.deployments:
                if d.get("rolloutState") == "IN_PROGRESS":
                    d["rolloutState"], d["status"] = "FAILED", "ACTIVE"
            completed[0]["status"] = "PRIMARY"
        return {"serviceDeploymentArn": arn}
