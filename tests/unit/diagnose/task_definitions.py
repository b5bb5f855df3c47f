"""Seed-like task definitions, shaped like DescribeTaskDefinition's `taskDefinition`."""

from __future__ import annotations

import copy
from typing import Any

ACCOUNT = "123456789012"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:monitoring/db-AbCdEf"

_HEALTHY: dict[str, Any] = {
    "taskDefinitionArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/pairva-frontend:3",
    "family": "pairva-frontend",
    "executionRoleArn": EXECUTION_ROLE,
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "containerDefinitions": [
        {
            "name": "frontend",
            "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/pairva-frontend:1.0.0",
            "essential": True,
            "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
            "environment": [{"name": "NODE_ENV", "value": "production"}],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/pairva-frontend",
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "ecs",
                },
            },
        }
    ],
}


def healthy() -> dict[str, Any]:
    """A Fargate task definition with nothing wrong (seed 001's frontend revision 3)."""
    return copy.deepcopy(_HEALTHY)


def seed_001_backend_template() -> dict[str, Any]:
    """Seed 001: the role ARN kept its `${AWS_ACCOUNT_ID}`, and logs go to a group nobody created."""
    definition = healthy()
    definition["family"] = "pairva-backend"
    definition["executionRoleArn"] = "arn:aws:iam::${AWS_ACCOUNT_ID}:role/ecsTaskExecutionRole"
    container = definition["containerDefinitions"][0]
    container["name"] = "backend"
    container["image"] = "${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com/pairva-backend:1.0.1"
    container["logConfiguration"]["options"]["awslogs-group"] = "/aws/ecs/pairva-cluster"
    return definition


def seed_002_dashboards() -> dict[str, Any]:
    """Seed 002: monitoring-dashboards reads JSON keys of one secret."""
    definition = healthy()
    definition["family"] = "monitoring-dashboards"
    container = definition["containerDefinitions"][0]
    container["name"] = "dashboards"
    container["image"] = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/monitoring-dashboards:v9"
    container["secrets"] = [
        {"name": "DB_PASSWORD", "valueFrom": f"{SECRET_ARN}:password::"},
        {"name": "DB_USER", "valueFrom": f"{SECRET_ARN}:username::"},
    ]
    return definition
