"""Organization mode from a laptop and from the console, on moto (in-process): `ecs-watchdog restore` and
`diagnose` with `--account` run through the member's role, assumed with the hub's ExternalId; the diagnose
function diagnoses a member's service when its input names the account; an account the hub cannot look into
is one clear line (CLI: exit 2) or `{"error": ...}` (the function), never the hub's own account instead."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.ecs.models import ecs_backends
from moto.sts.models import sts_backends

from ecs_watchdog.cli import main
from ecs_watchdog.replay.sandbox import ACCOUNT, FAKE_CREDENTIALS
from ecs_watchdog.wiring.diagnose import DiagnoseSettings, build_diagnose_console
from tests.integration.diagnose_account import CLUSTER as DIAGNOSABLE_CLUSTER
from tests.integration.diagnose_account import SERVICE as DIAGNOSABLE_SERVICE
from tests.integration.diagnose_account import create_diagnosable_service
from tests.integration.organization_setup import assumed_session

REGION = "us-east-1"
MEMBER, OTHER = "111111111111", "555555555555"
EXTERNAL_ID = f"ecs-watchdog-hub-{ACCOUNT}"


def session_in(account: str) -> boto3.Session:
    return assumed_session(boto3.client("sts", region_name=REGION), account)


def assumed(account: str) -> list[tuple[str, str | None]]:
    """(role ARN, ExternalId) of every AssumeRole into `account`, the test's own set-up left out."""
    return [
        (r.role_arn, r.external_id)
        for r in sts_backends[account]["aws"].assumed_roles
        if not r.role_arn.endswith(":role/setup")
    ]


@pytest.fixture
def hub_and_member() -> Iterator[boto3.Session]:
    """The member's prod/api scaled to zero by the watchdog (its tag says 2 before) and its diagnosable
    service; the hub's own account holds a prod/api at 0 too, which no member command may touch."""
    with mock.patch.dict(os.environ, {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION}), mock_aws():
        for account in (ACCOUNT, MEMBER):
            session = session_in(account) if account != ACCOUNT else boto3.Session(region_name=REGION)
            ecs = session.client("ecs")
            ecs.create_cluster(clusterName="prod")
            definition = ecs.register_task_definition(
                family="api", containerDefinitions=[{"name": "api", "image": "api:1", "memory": 512}]
            )["taskDefinition"]["taskDefinitionArn"]
            ecs.create_service(cluster="prod", serviceName="api", taskDefinition=definition, desiredCount=0)
            ecs_backends[account][REGION]._get_service("prod", "api").deployments[0]["rolloutState"] = "COMPLETED"
            api = ecs.describe_services(cluster="prod", services=["api"])["services"][0]["serviceArn"]
            ecs.tag_resource(resourceArn=api, tags=[{"key": "ecs-watchdog:previous-desired-count", "value": "2"}])
            session.client("application-autoscaling").register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId="service/prod/api",
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=0,
                MaxCapacity=4,
            )
        create_diagnosable_service(session_in(MEMBER))
        yield boto3.Session(region_name=REGION)


def desired(account: str) -> int:
    return int(ecs_backends[account][REGION]._get_service("prod", "api").desired_count)


def test_restore_with_account_undoes_the_members_scale_to_zero_through_its_containment_role(hub_and_member, capsys):
    code = main(["restore", "--account", MEMBER, "--cluster", "prod", "--service", "api", "--region", REGION, "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["outcome"] == "done", summary.get("reason")
    assert (desired(MEMBER), desired(ACCOUNT)) == (2, 0)  # the member's service, not the hub's namesake
    assert assumed(MEMBER) == [(f"arn:aws:iam::{MEMBER}:role/ecs-watchdog-contain", EXTERNAL_ID)]


def test_diagnose_with_account_probes_the_members_service_through_its_read_role(hub_and_member, capsys):
    args = ["diagnose", "--account", MEMBER, "--cluster", DIAGNOSABLE_CLUSTER, "--service", DIAGNOSABLE_SERVICE]
    code = main([*args, "--region", REGION, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code in (0, 1) and report["service"] == DIAGNOSABLE_SERVICE  # found: it exists only in the member
    assert assumed(MEMBER) == [(f"arn:aws:iam::{MEMBER}:role/ecs-watchdog-read", EXTERNAL_ID)]


def test_a_member_role_that_cannot_be_assumed_is_one_line_and_exit_2(hub_and_member, capsys):
    def refuse(*_: Any, **__: Any) -> Any:
        error = {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}
        return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), {
            "Error": error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    original = boto3.Session.client

    def client(self: boto3.Session, name: str, *args: Any, **kwargs: Any) -> Any:
        made = original(self, name, *args, **kwargs)
        if name == "sts":
            made.meta.events.register("before-call.sts.AssumeRole", refuse)
        return made

    with mock.patch.object(boto3.Session, "client", client):
        code = main(["restore", "--account", MEMBER, "--cluster", "prod", "--service", "api", "--region", REGION])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "ecs-watchdog-contain" in err[0] and "AccessDenied" in err[0]
    assert desired(MEMBER) == 0


def test_the_diagnose_function_diagnoses_a_members_service_when_its_input_names_the_account(hub_and_member):
    topic = hub_and_member.client("sns").create_topic(Name="alerts")["TopicArn"]
    settings = DiagnoseSettings(
        topic_arn=topic,
        member_accounts=MEMBER,
        member_read_role="ecs-watchdog-read",
        member_external_id=EXTERNAL_ID,
    )
    console = build_diagnose_console(settings, hub_and_member)
    request = {"cluster": DIAGNOSABLE_CLUSTER, "service": DIAGNOSABLE_SERVICE}
    report = console.answer({**request, "account": MEMBER})
    assert "error" not in report and report["service"] == DIAGNOSABLE_SERVICE
    assert assumed(MEMBER) == [(f"arn:aws:iam::{MEMBER}:role/ecs-watchdog-read", EXTERNAL_ID)]
    # Not a member this hub watches: refused, never looked up in the hub's account instead.
    assert "not one this hub watches" in console.answer({**request, "account": OTHER})["error"]
    assert assumed(OTHER) == []
    # A single-account diagnose function: it says it cannot.
    single = build_diagnose_console(DiagnoseSettings(topic_arn=topic), hub_and_member)
    assert "not a hub's" in single.answer({**request, "account": MEMBER})["error"]
    assert "account" in console.answer({**request, "account": "12"})["error"]  # not an account id
