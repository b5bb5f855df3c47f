"""The task definition lint finds what ECS refuses or what stops tasks before they run."""

from __future__ import annotations

import pytest

from ecs_watchdog.diagnose.task_definition import (
    fargate_size_problem,
    lint_task_definition,
    placeholders_in,
    task_definition_problems,
)
from tests.unit.diagnose.task_definitions import healthy, seed_001_backend_template, seed_002_dashboards


def test_healthy_task_definition_passes():
    result = lint_task_definition(healthy())
    assert result.status == "pass"
    assert result.resource == healthy()["taskDefinitionArn"]


def test_seed_001_unresolved_account_id_in_the_execution_role_fails():
    result = lint_task_definition(seed_001_backend_template())
    assert result.status == "fail"
    assert result.summary.startswith("task definition has 2 problems: executionRoleArn")
    assert "arn:aws:iam::${AWS_ACCOUNT_ID}:role/ecsTaskExecutionRole" in result.evidence[0]
    assert any("container backend image" in line and "${AWS_REGION}" in line for line in result.evidence)


def test_lint_accepts_the_whole_describe_response():
    assert lint_task_definition({"taskDefinition": seed_001_backend_template()}).status == "fail"


def test_seed_001_awslogs_without_execution_role_on_fargate_is_refused():
    definition = healthy()
    del definition["executionRoleArn"]
    problems = task_definition_problems(definition)
    assert "no executionRoleArn, but the task uses the awslogs log driver on Fargate" in problems
    assert any("pulling private ECR images on Fargate" in p for p in problems)


def test_secrets_need_an_execution_role_on_any_launch_type():
    definition = seed_002_dashboards()
    del definition["executionRoleArn"]
    definition["requiresCompatibilities"] = ["EC2"]
    assert task_definition_problems(definition) == [
        "no executionRoleArn, but the task uses secrets or parameters (the execution role fetches them)"
    ]


def test_no_essential_container_fails():
    definition = healthy()
    definition["containerDefinitions"][0]["essential"] = False
    assert task_definition_problems(definition) == [
        "no container is essential: ECS needs at least one essential container"
    ]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("arn:aws:iam::${AWS_ACCOUNT_ID}:role/x", ["${AWS_ACCOUNT_ID}"]),
        ("postgres://{{ db_host }}:5432", ["{{ db_host }}"]),
        ("arn:aws:iam::<account-id>:role/x", ["<account-id>"]),
        ("REPLACE_ME", ["REPLACE_ME"]),
        ("password=changeme", ["changeme"]),
        ("TODO set this", ["TODO"]),
        ("production", []),
        ("a<b and c>d", []),
        ("todo-service", []),
    ],
)
def test_placeholders(text: str, found: list[str]):
    assert placeholders_in(text) == found


def test_placeholder_in_an_environment_value_is_named():
    definition = healthy()
    definition["containerDefinitions"][0]["environment"].append({"name": "S3_BUCKET_NAME", "value": "REPLACE_ME"})
    (problem,) = task_definition_problems(definition)
    assert problem == (
        "container frontend environment S3_BUCKET_NAME has an unresolved placeholder REPLACE_ME: REPLACE_ME"
    )


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [("256", "512"), ("256", "2048"), ("1 vCPU", "2 GB"), ("4096", "30720"), ("8192", "61440"), ("16384", "122880")],
)
def test_fargate_accepts_documented_sizes(cpu: str, memory: str):
    assert fargate_size_problem(cpu, memory) is None


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        ("256", "4096", "Fargate refuses cpu 256 with memory 4096 MiB: it allows 512-2048 MiB"),
        ("1024", "1024", "Fargate refuses cpu 1024 with memory 1024 MiB: it allows 2048-8192 MiB in steps of 1024"),
        ("8192", "18432", "Fargate refuses cpu 8192 with memory 18432 MiB: it allows 16384-61440 MiB in steps of 4096"),
        ("3000", "4096", "Fargate has no task size with cpu 3000"),
        (None, "512", "Fargate needs task-level cpu and memory"),
    ],
)
def test_fargate_refuses_other_sizes(cpu: str | None, memory: str, expected: str):
    problem = fargate_size_problem(cpu, memory)
    assert problem is not None
    assert problem.startswith(expected)


def test_size_is_not_checked_for_ec2_only_task_definitions():
    definition = healthy()
    definition["requiresCompatibilities"] = ["EC2"]
    definition["cpu"] = "3000"
    assert task_definition_problems(definition) == []


def test_container_memory_beyond_the_task_memory_fails():
    definition = healthy()
    definition["containerDefinitions"][0]["memory"] = 2048
    assert task_definition_problems(definition) == [
        "the containers' memory limits add up to 2048 MiB, more than the task's 1024"
    ]
