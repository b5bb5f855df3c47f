"""Organization mode on moto: events of two member accounts through the hub, each looked up in its own
account through the role the hub assumes there (moto separates accounts by the assumed credentials);
a member the hub cannot assume into; an event of an account outside the configured set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from ecs_watchdog.aws.member_sessions import MemberSessions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.flow.pipeline import utc_now
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.replay.sandbox import local_account
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, bodies, stopped
from tests.integration.organization_setup import (
    create_member_service,
    deployments_per_member,
    hub_settings,
    in_account,
    member_session,
)
from tests.integration.service_setup import invoke

MEMBER_A, MEMBER_B, REFUSING, OUTSIDER = "111111111111", "222222222222", "333333333333", "444444444444"


@pytest.fixture
def member_deployments() -> Iterator[dict[str, ServiceDeploymentCalls]]:
    with deployments_per_member() as deployments:
        yield deployments


def test_one_cause_failing_services_of_two_members_is_one_organization_message_naming_both(member_deployments):
    # 3 services in A and 2 in B: neither account reaches K (5) alone; together they do.
    with local_account() as hub:
        create_member_service(hub, MEMBER_A, completed=4, names=("api", "web", "jobs"), current=6)
        create_member_service(hub, MEMBER_B, completed=3, names=("api", "web"), current=6)
        ecs_events.install(hub_settings(hub, f"{MEMBER_A},{MEMBER_B}"), hub.session)
        failing = [(MEMBER_A, "api"), (MEMBER_B, "api"), (MEMBER_A, "web"), (MEMBER_B, "web"), (MEMBER_A, "jobs")]
        events = [
            in_account(stopped(10 * i + k, 1 + i / 10 + k / 100, service=name), account)
            for k in range(3)
            for i, (account, name) in enumerate(failing)
        ]
        response = invoke(bodies(*events[:10]))
        response["batchItemFailures"] += invoke(bodies(*events[10:]))["batchItemFailures"]

        assert response["batchItemFailures"] == []
        subjects = [m["Subject"] for m in hub.sns_messages()]
        organization = [s for s in subjects if "2 accounts" in s]
        assert organization == ["[ecs-watchdog] OPENED us-east-1, 2 accounts: Many services failing at once (image)"]
        assert len(subjects) == 5  # four services before the guard tripped, then the organization's one
        (payload,) = [p for p in hub.slack.payloads if "2 accounts" in json.dumps(p)]
        assert f"accounts {MEMBER_A} (3), {MEMBER_B} (2)" in json.dumps(payload)
        table = StateTable(hub.session.client("dynamodb"), hub.settings.state_table_name)
        stored = table.load_organization(f"{ACCOUNT}/{REGION}")
        assert stored is not None and stored.incidents["image"].accounts == {MEMBER_A: 3, MEMBER_B: 2}
        assert stored.outbox == []  # delivered and acknowledged
        # Containment (dry-run) decided for the first service on its own, and was held for the fifth, which
        # opened under the organization incident (account A alone has three: its own guard holds nothing).
        held = "many services are failing for the same cause at once"
        for name, paused in (("api", False), ("jobs", True)):
            state = table.load_service(f"{MEMBER_A}/{REGION}/{CLUSTER}/{name}")
            assert state is not None
            (incident,) = state.incidents.values()
            assert incident.containment is not None
            assert (held in incident.containment["action"]["reason"]) is paused, name


def test_two_members_are_looked_up_in_their_own_accounts_a_refusing_one_once_an_outsider_parked(
    caplog, member_deployments
):
    deployments = member_deployments
    with local_account() as hub:
        create_member_service(hub, MEMBER_A, completed=4)
        create_member_service(hub, MEMBER_B, completed=3)
        assumed: list[str] = []

        def refuse(params: dict[str, Any], **_: Any) -> Any:
            assumed.append(params["body"]["RoleArn"])
            if f":{REFUSING}:" in params["body"]["RoleArn"]:
                error = {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}
                response = AWSResponse("https://sts.amazonaws.com/", 403, {}, None)
                return (response, {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}})
            return None

        hub.session.events.register("before-call.sts.AssumeRole", refuse)
        ecs_events.install(hub_settings(hub, f"{MEMBER_A},{MEMBER_B},{REFUSING}"), hub.session)
        events = [in_account(stopped(n, 1 + n / 10), account) for account in (MEMBER_A, MEMBER_B) for n in range(3)]
        events += [in_account(stopped(10 + n, 2 + n / 10), REFUSING) for n in range(2)]
        events += [in_account(stopped(20, 3), OUTSIDER)]
        caplog.clear()
        response = invoke(bodies(*events))
        logs = "\n".join(r.getMessage() for r in caplog.records)

        assert response["batchItemFailures"] == []
        table = StateTable(hub.session.client("dynamodb"), hub.settings.state_table_name)
        for account, completed in ((MEMBER_A, 4), (MEMBER_B, 3)):
            state = table.load_service(f"{account}/{REGION}/{CLUSTER}/{SERVICE}")
            assert state is not None and len(state.incidents) == 1, account
            # DescribeServices answered in the member's account: its own last known good.
            assert state.last_known_good == f"arn:aws:ecs:{REGION}:{account}:task-definition/api:{completed}"
        assert table.load_service(f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}") is None  # nothing in the hub's name
        # Containment (dry-run) looked for the deployment to stop in each member's own account.
        for account in (MEMBER_A, MEMBER_B):
            assert [c for c, _ in deployments[account].calls if c == "ListServiceDeployments"], account
        assert "containment failed" not in logs
        # The refusing member: one AssumeRole, one error, both events ignored with the reason.
        assert [a for a in assumed if f":{REFUSING}:" in a] == [f"arn:aws:iam::{REFUSING}:role/ecs-watchdog-read"]
        assert logs.count("member account unreachable") == 1
        assert table.load_service(f"{REFUSING}/{REGION}/{CLUSTER}/{SERVICE}") is None
        # The outsider: parked with the reason, never looked up.
        (parked,) = hub.parked()
        assert "not watched" in parked["attributes"]["ecs-watchdog-parked-reason"]
        assert OUTSIDER in parked["attributes"]["ecs-watchdog-parked-reason"]
        assert not any(f":{OUTSIDER}:" in a for a in assumed)
        # A member service's timers tick through its own pipeline (the sweep's hook); an outsider's are left alone.
        tick = ecs_events.intake().pipeline.tick(ServiceRef(MEMBER_A, REGION, CLUSTER, SERVICE), utc_now())
        assert tick.reason == "nothing changed", tick  # walked through its timers, none due
        outsider = ecs_events.intake().pipeline.tick(ServiceRef(OUTSIDER, REGION, CLUSTER, SERVICE), utc_now())
        assert (outsider.kind, "not one this hub watches" in outsider.reason) == ("ignored", True)


def test_a_gated_member_services_pause_hook_is_answered_through_the_members_role(monkeypatch):
    """Dry-run: the fail-open CONTINUE, through the member's read role, never with the hub's credentials."""
    answered: dict[str, list[dict[str, Any]]] = {"member": [], "hub": []}

    def recorder(where: str) -> Any:
        def answer(model: Any, params: dict[str, Any], **_: Any) -> Any:
            answered[where].append(json.loads(params["body"]))
            body = {"serviceDeploymentArn": answered[where][-1]["serviceDeploymentArn"]}
            return AWSResponse("https://ecs.local", 200, {}, None), {
                **body,
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }

        return answer

    original = MemberSessions.session

    def with_answers(self: MemberSessions, account: str, role_name: str) -> boto3.Session:
        session = original(self, account, role_name)
        session.events.register("before-call.ecs.ContinueServiceDeployment", recorder("member"), unique_id="member")
        ServiceDeploymentCalls(account, REGION).install(session)
        return session

    monkeypatch.setattr(MemberSessions, "session", with_answers)
    with local_account() as hub:
        hub.session.events.register("before-call.ecs.ContinueServiceDeployment", recorder("hub"))
        create_member_service(hub, MEMBER_A, completed=4)
        ecs = member_session(hub, MEMBER_A).client("ecs")
        service_arn = f"arn:aws:ecs:{REGION}:{MEMBER_A}:service/{CLUSTER}/{SERVICE}"
        ecs.tag_resource(resourceArn=service_arn, tags=[{"key": "ecs-watchdog:gate", "value": "on"}])
        settings = hub.settings.model_copy(
            update={
                "member_accounts": MEMBER_A,
                "member_read_role": "ecs-watchdog-read",
                "member_external_id": f"ecs-watchdog-hub-{ACCOUNT}",
            }
        )
        ecs_events.install(settings, hub.session)
        response = invoke(bodies(member_hook(MEMBER_A, "ecs-svc/2000000000000000002")))

    assert response["batchItemFailures"] == []
    assert answered["hub"] == []
    (answer,) = answered["member"]
    assert answer["action"] == "CONTINUE" and f":{MEMBER_A}:service-deployment/" in answer["serviceDeploymentArn"]


def member_hook(account: str, deployment_id: str) -> dict[str, Any]:
    """The documented HOOK_AWAITING_ACTION event (tests/fixtures), of the member's prod/api deployment."""
    from datetime import timedelta

    from tests.conftest import load_event

    event = load_event("hook_state_change_awaiting_action")
    now = utc_now()
    deployment = f"arn:aws:ecs:{REGION}:{account}:service-deployment/{CLUSTER}/{SERVICE}/{deployment_id.split('/')[-1]}"
    event.update(account=account, region=REGION, time=now.isoformat().replace("+00:00", "Z"), resources=[deployment])
    event["detail"].update(
        clusterArn=f"arn:aws:ecs:{REGION}:{account}:cluster/{CLUSTER}",
        serviceArn=f"arn:aws:ecs:{REGION}:{account}:service/{CLUSTER}/{SERVICE}",
        serviceDeploymentArn=deployment,
        lifecycleStage="POST_SCALE_UP",
        expiresAt=(now + timedelta(hours=2)).isoformat(),
    )
    return event


def test_services_of_three_members_that_fail_recover_and_relapse_together_make_one_message_per_phase():
    from tests.integration.guard_storm import run_episode

    # 5 services in each of 3 members: each account reaches K on its own too, under the organization's.
    fail, recover, relapse = run_episode(15, accounts=3)
    assert [p.failed_records for p in (fail, recover, relapse)] == [0, 0, 0]
    assert fail.sns == fail.slack == 5  # four services announced before the guard tripped, then the organization
    assert fail.subjects[-1] == "[ecs-watchdog] OPENED us-east-1, 3 accounts: Many services failing at once (image)"
    assert recover.subjects == ["[ecs-watchdog] RESOLVED us-east-1, 3 accounts: Many services failing at once (image)"]
    assert relapse.subjects == ["[ecs-watchdog] REOPENED us-east-1, 3 accounts: Many services failing at once (image)"]
    assert recover.slack == relapse.slack == 1
    assert not any("account 1000" in s for p in (fail, recover, relapse) for s in p.subjects)  # no account's own
