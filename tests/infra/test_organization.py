"""Organization mode: the hub's bus and grants, the member template (StackSet or management account),
several regions from one synth, and the keys' validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra.config import ConfigError
from infra.ingest import (
    CONTAINER_INSTANCE_HEALTH_PATTERN,
    DEPLOYMENT_STATE_PATTERN,
    ECS_API_CALL_ERROR_PATTERN,
    HOOK_STATE_CHANGE_PATTERN,
    SERVICE_ACTION_PATTERN,
    STOPPED_SERVICE_TASKS_PATTERN,
)
from infra.organization import load_organization
from tests.infra.conftest import HUB, ORG


def _pattern(pattern: dict[str, Any]) -> dict[str, Any]:
    synthesized = {"source": pattern["source"], "detail-type": pattern["detail_type"]}
    return synthesized | ({"detail": pattern["detail"]} if pattern["detail"] else {})


FORWARDED = [
    CONTAINER_INSTANCE_HEALTH_PATTERN,
    STOPPED_SERVICE_TASKS_PATTERN,
    DEPLOYMENT_STATE_PATTERN,
    SERVICE_ACTION_PATTERN,
    ECS_API_CALL_ERROR_PATTERN,
    HOOK_STATE_CHANGE_PATTERN,  # a gated member service's PAUSE hooks, answered through its role
]


def test_one_synth_makes_a_member_stack_per_region(members):
    assert sorted(members) == ["EcsWatchdogMember-eu-west-1", "EcsWatchdogMember-us-east-1"]


def test_a_member_forwards_todays_ecs_patterns_to_the_hubs_bus_in_its_region_with_a_role(members):
    template, _ = members["EcsWatchdogMember-eu-west-1"]
    rules = template.find_resources("AWS::Events::Rule")
    assert sorted(json.dumps(r["Properties"]["EventPattern"], sort_keys=True) for r in rules.values()) == sorted(
        json.dumps(_pattern(p), sort_keys=True) for p in FORWARDED
    )
    for rule in rules.values():
        (target,) = rule["Properties"]["Targets"]
        assert "EventBusName" not in rule["Properties"]  # the member's default bus
        assert json.dumps(target["Arn"]).count(f":{HUB}:event-bus/ecs-watchdog-hub") == 1
        assert "RoleArn" in target and "DeadLetterConfig" in target


def test_member_roles_trust_only_the_hubs_roles_with_its_external_id_and_never_the_org_access_role(members):
    template, _ = members["EcsWatchdogMember-eu-west-1"]
    roles = template.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": "ecs-watchdog-read"}})
    (read,) = roles.values()
    (trust,) = read["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": f"ecs-watchdog-hub-{HUB}"}
    assert f"iam::{HUB}:role/EcsWatchdog*" in json.dumps(trust["Condition"]["ArnLike"]["aws:PrincipalArn"])
    assert HUB in json.dumps(trust["Principal"])
    body = json.dumps(template.to_json())
    assert "OrganizationAccountAccessRole" not in body
    assert "ecs-watchdog-contain" not in body  # dry-run: nothing that can write
    policies = json.dumps(template.find_resources("AWS::IAM::Policy"))
    for write in ("ecs:UpdateService", "ecs:StopServiceDeployment", "ecs:TagResource", "iam:PassRole"):
        assert write not in policies
    # Its one write: the fail-open CONTINUE to a gated service's PAUSE hook (docs/organization.md).
    assert policies.count("ecs:ContinueServiceDeployment") == 1


def test_a_member_deployed_with_enforce_gets_the_containment_role(enforcing_member):
    template, _ = enforcing_member
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "ecs-watchdog-contain"})
    # Answering PAUSE hooks (ROLLBACK too) is the containment role's; the read role keeps no write.
    (read_id,) = template.find_resources("AWS::IAM::Role", {"Properties": {"RoleName": "ecs-watchdog-read"}})
    read_policies = [
        p for p in template.find_resources("AWS::IAM::Policy").values() if {"Ref": read_id} in p["Properties"]["Roles"]
    ]
    assert read_policies and "ContinueServiceDeployment" not in json.dumps(read_policies)
    assert "ContinueServiceDeployment" in json.dumps(template.find_resources("AWS::IAM::Policy"))
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with([Match.object_like({"Action": "ecs:UpdateService", "Effect": "Allow"})])
            }
        },
    )


def test_the_hubs_bus_admits_the_organization_and_the_named_accounts(hub):
    template, _ = hub
    template.has_resource_properties("AWS::Events::EventBus", {"Name": "ecs-watchdog-hub"})
    policy = json.dumps(template.find_resources("AWS::Events::EventBusPolicy"))
    assert f'"aws:PrincipalOrgID": "{ORG}"' in policy and "444455556666" in policy
    hub_rules = template.find_resources("AWS::Events::Rule", {"Properties": {"EventBusName": Match.any_value()}})
    assert len(hub_rules) == len(FORWARDED)
    queue_policy = json.dumps(template.find_resources("AWS::SQS::QueuePolicy"))
    for rule_id in hub_rules:  # the queue's Deny lets the hub's rules through
        assert rule_id in queue_policy
    grants = json.dumps(template.find_resources("AWS::IAM::Policy"))
    assert "sts:AssumeRole" in grants and "role/ecs-watchdog-read" in grants
    assert "role/ecs-watchdog-contain" not in grants  # dry-run hub: no containment role to assume


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"deployment": "hub"}, "watchdog:organization_id"),
        ({"deployment": "member"}, "watchdog:hub_account"),
        ({"deployment": "hub", "organization_id": "org-1"}, "not an organization id"),
        ({"deployment": "hub", "member_accounts": "1234"}, "12-digit"),
        ({"deployment": "single", "hub_account": HUB}, "deployment=member only"),
        ({"deployment": "galaxy"}, "single, hub, member"),
        ({"regions": "eu-west-1,moon"}, "moon"),
    ],
)
def test_bad_organization_keys_stop_synth_naming_the_key(values, says):
    with pytest.raises(ConfigError, match=says):
        load_organization(values)


def test_organization_keys_from_the_command_line_or_cdk_json():
    assert load_organization({"deployment": "hub", "member_accounts": [HUB, "444455556666"]}).member_accounts == (
        HUB,
        "444455556666",
    )
    assert load_organization({"regions": "eu-west-1, us-east-1"}).regions == ("eu-west-1", "us-east-1")
    assert load_organization({}).deployment == "single"
