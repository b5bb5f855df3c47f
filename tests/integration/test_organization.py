"""Organization mode on moto: events of two member accounts through the hub, each looked up in its own
account through the role the hub assumes there (moto separates accounts by the assumed credentials);
a member the hub cannot assume into; an event of an account outside the configured set."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.member_sessions import MemberSessions
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.flow.pipeline import utc_now
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from tests.integration.incident_events import ACCOUNT, CLUSTER, IMAGE, REGION, SERVICE, bodies, stopped
from tests.integration.service_setup import invoke, publish_image

MEMBER_A, MEMBER_B, REFUSING, OUTSIDER = "111111111111", "222222222222", "333333333333", "444444444444"


def in_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    """The same event, as ECS in `account` would send it (account field and every ARN)."""
    return json.loads(json.dumps(event).replace(ACCOUNT, account))


def member_session(hub: LocalAccount, account: str) -> boto3.Session:
    answer = hub.session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=answer["AccessKeyId"],
        aws_secret_access_key=answer["SecretAccessKey"],
        aws_session_token=answer["SessionToken"],
        region_name=REGION,
    )


def create_member_service(hub: LocalAccount, account: str, completed: int) -> None:
    """Service `api` in the member's own account, its last COMPLETED deployment on revision `completed`."""
    session = member_session(hub, account)
    ecs = session.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    publish_image(LocalAccount(session, hub.settings, hub.slack, hub.sns_capture_queue_url))
    for _ in range(1, 8):
        ecs.register_task_definition(
            family="api", containerDefinitions=[{"name": "api", "image": IMAGE, "memory": 128}]
        )
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=f"api:{completed}", desiredCount=2)
    arn = f"arn:aws:ecs:{REGION}:{account}:task-definition/api"
    ecs_backends[account][REGION]._get_service(CLUSTER, SERVICE).deployments = [
        {
            "id": "ecs-svc/2000000000000000002",
            "status": "PRIMARY",
            "taskDefinition": f"{arn}:6",
            "rolloutState": "IN_PROGRESS",
        },
        {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": f"{arn}:{completed}", "rolloutState": "COMPLETED"},
    ]


def test_two_members_are_looked_up_in_their_own_accounts_a_refusing_one_once_an_outsider_parked(caplog, monkeypatch):
    # moto lacks the service-deployment APIs: each member session gets the simulator's answers, per account.
    deployments: dict[str, ServiceDeploymentCalls] = {}
    original = MemberSessions.session

    def with_deployments(self: MemberSessions, account: str, role_name: str) -> boto3.Session:
        session = original(self, account, role_name)
        if account not in deployments:
            deployments[account] = ServiceDeploymentCalls(account, REGION)
            deployments[account].install(session)
        return session

    monkeypatch.setattr(MemberSessions, "session", with_deployments)
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
        settings = hub.settings.model_copy(
            update={
                "member_accounts": f"{MEMBER_A},{MEMBER_B},{REFUSING}",
                "member_read_role": "ecs-watchdog-read",
                "member_external_id": f"ecs-watchdog-hub-{ACCOUNT}",
            }
        )
        ecs_events.install(settings, hub.session)
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
