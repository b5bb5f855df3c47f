"""Each read-only probe against moto, in its pass and its fail case; IAM simulation through Stubber."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ecs_watchdog.aws.probe_clients import ProbeClients
from ecs_watchdog.aws.probes import (
    probe_image,
    probe_logging,
    probe_secret_access,
    probe_secrets,
)
from tests.unit.diagnose.task_definitions import ACCOUNT, EXECUTION_ROLE, healthy, seed_002_dashboards

REGION = "us-east-1"


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION)


@pytest.fixture
def clients(session: boto3.Session) -> ProbeClients:
    return ProbeClients(session, REGION)


def _push_image(session: boto3.Session, repository: str, tag: str) -> None:
    ecr = session.client("ecr")
    ecr.create_repository(repositoryName=repository)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)


def _with_image(image: str) -> dict[str, Any]:
    definition = healthy()
    definition["containerDefinitions"][0]["image"] = image
    return definition


# image
def test_image_probe_passes_when_the_tag_was_pushed(session: boto3.Session, clients: ProbeClients):
    _push_image(session, "pairva-frontend", "1.0.0")
    result = probe_image(clients, healthy())
    assert result.status == "pass"
    assert result.evidence[0].startswith("pairva-frontend:1.0.0 exists: sha256:")


def test_seed_002_image_tag_never_pushed_fails(session: boto3.Session, clients: ProbeClients):
    _push_image(session, "agricultural-core", "v3.3.1")
    image = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/agricultural-core:v3.3.2"
    result = probe_image(clients, _with_image(image))
    assert result.status == "fail"
    assert result.summary == "agricultural-core:v3.3.2 is not in the repository (never pushed, or deleted)"


def test_image_probe_fails_when_the_repository_does_not_exist(clients: ProbeClients):
    result = probe_image(clients, healthy())
    assert result.summary == f"repository pairva-frontend does not exist in {ACCOUNT}/us-east-1"


def test_images_in_other_registries_are_skipped(clients: ProbeClients):
    result = probe_image(clients, _with_image("ghcr.io/acme/api:v1"))
    assert result.status == "skipped"
    assert "cannot be checked" in result.summary


# secrets
def _secret(session: boto3.Session, value: str) -> str:
    return session.client("secretsmanager").create_secret(Name="monitoring/db", SecretString=value)["ARN"]


def _dashboards(secret_arn: str) -> dict[str, Any]:
    definition = seed_002_dashboards()
    for secret in definition["containerDefinitions"][0]["secrets"]:
        secret["valueFrom"] = secret_arn + secret["valueFrom"][secret["valueFrom"].index(":", 60) :]
    return definition


def test_secrets_probe_passes_on_metadata_without_reading_the_value(session: boto3.Session, clients: ProbeClients):
    arn = _secret(session, '{"password": "\\!"}')  # malformed, but values are not read by default
    calls: list[str] = []
    session_client = clients.client("secretsmanager")
    session_client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    result = probe_secrets(clients, _dashboards(arn))
    assert result.status == "pass"
    assert "GetSecretValue" not in calls


def test_seed_002_malformed_secret_json_fails_only_when_values_may_be_read(
    session: boto3.Session, clients: ProbeClients
):
    value = '{"password": "p\\!ss", "username": "grafana"}'
    arn = _secret(session, value)
    result = probe_secrets(clients, _dashboards(arn), read_secret_values=True)
    assert result.status == "fail"
    assert result.summary == (
        "secret monitoring/db: valid JSON: no, keys referenced by the task definition present: no"
    )
    assert all("p\\!ss" not in line and "grafana" not in line for line in (result.summary, *result.evidence))


def test_secret_with_the_referenced_keys_passes_when_read(session: boto3.Session, clients: ProbeClients):
    arn = _secret(session, '{"password": "x", "username": "y"}')
    result = probe_secrets(clients, _dashboards(arn), read_secret_values=True)
    assert result.status == "pass"
    assert "secret monitoring/db: valid JSON: yes, keys referenced by the task definition present: yes" in (
        result.evidence
    )


def test_missing_and_deleted_secrets_fail(session: boto3.Session, clients: ProbeClients):
    missing = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:monitoring/gone-AbCdEf"
    assert probe_secrets(clients, _dashboards(missing)).summary == (
        f"secret {missing} does not exist (used by dashboards)"
    )
    arn = _secret(session, "{}")
    session.client("secretsmanager").delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    result = probe_secrets(clients, _dashboards(arn))
    assert result.status == "fail"
    assert result.summary.startswith("secret monitoring/db is scheduled for deletion on ")


def test_ssm_parameter_probe_passes_and_fails(session: boto3.Session, clients: ProbeClients):
    session.client("ssm").put_parameter(Name="/pairva/db-url", Value="postgres://db", Type="SecureString")
    definition = healthy()
    definition["containerDefinitions"][0]["secrets"] = [
        {"name": "DB_URL", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/pairva/db-url"}
    ]
    result = probe_secrets(clients, definition)
    assert result.status == "pass"
    assert result.evidence[0].startswith("parameter /pairva/db-url: SecureString")
    definition["containerDefinitions"][0]["secrets"][0]["valueFrom"] = "/pairva/missing"
    assert probe_secrets(clients, definition).summary == "parameter /pairva/missing does not exist (used by frontend)"


# secret access: moto has no faithful SimulatePrincipalPolicy, so the real botocore model is stubbed
def _simulation(resource: str, decision: str) -> dict[str, Any]:
    return {
        "EvaluationResults": [
            {
                "EvalActionName": "secretsmanager:GetSecretValue",
                "EvalResourceName": resource,
                "EvalDecision": decision,
                "ResourceSpecificResults": [{"EvalResourceName": resource, "EvalResourceDecision": decision}],
            }
        ],
        "IsTruncated": False,
    }


@pytest.mark.parametrize(("decision", "status"), [("allowed", "pass"), ("implicitDeny", "fail")])
def test_secret_access_simulates_the_execution_role(
    session: boto3.Session, clients: ProbeClients, decision: str, status: str
):
    arn = _secret(session, "{}")
    with Stubber(clients.client("iam")) as iam:
        iam.add_response(
            "simulate_principal_policy",
            _simulation(arn, decision),
            expected_params={
                "PolicySourceArn": EXECUTION_ROLE,
                "ActionNames": ["secretsmanager:GetSecretValue"],
                "ResourceArns": [arn],
            },
        )
        result = probe_secret_access(clients, _dashboards(arn))
        iam.assert_no_pending_responses()
    assert result.status == status
    assert f"secretsmanager:GetSecretValue on {arn}: {decision}" in result.evidence


def test_secret_access_also_simulates_kms_decrypt_for_a_customer_key(session: boto3.Session, clients: ProbeClients):
    key_id = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
    arn = session.client("secretsmanager").create_secret(Name="monitoring/db", SecretString="{}", KmsKeyId=key_id)[
        "ARN"
    ]
    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}"
    with Stubber(clients.client("iam")) as iam:
        iam.add_response("simulate_principal_policy", _simulation(arn, "allowed"))
        iam.add_response(
            "simulate_principal_policy",
            _simulation(key_arn, "explicitDeny"),
            expected_params={
                "PolicySourceArn": EXECUTION_ROLE,
                "ActionNames": ["kms:Decrypt"],
                "ResourceArns": [key_arn],
            },
        )
        result = probe_secret_access(clients, _dashboards(arn))
    assert result.summary == f"kms:Decrypt on {key_arn}: explicitDeny"


# logging
def test_logging_probe_passes_when_the_group_exists_and_fails_for_seed_001(
    session: boto3.Session, clients: ProbeClients
):
    session.client("logs").create_log_group(logGroupName="/ecs/pairva-frontend-old")
    definition = healthy()
    assert probe_logging(clients, definition).summary == "frontend: log group /ecs/pairva-frontend does not exist"
    session.client("logs").create_log_group(logGroupName="/ecs/pairva-frontend")
    assert probe_logging(clients, definition).status == "pass"


def test_awslogs_create_group_passes_and_names_the_permission(clients: ProbeClients):
    definition = healthy()
    definition["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-create-group"] = "true"
    result = probe_logging(clients, definition)
    assert result.status == "pass"
    assert "the execution role needs logs:CreateLogGroup" in result.evidence[0]
