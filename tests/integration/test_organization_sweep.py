"""The hub's sweep in organization mode, on moto: it walks each named member account's services through
that account's read role (moto separates accounts by the assumed credentials), bounded and resumable across
accounts; it ticks a member service's timers through the member's pipeline; a member whose role cannot be
assumed is reported and skipped, the others walked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.state_table import WATCH_INDEX, StateTable
from ecs_watchdog.aws.sweep_cursor import SweepCursorItem
from ecs_watchdog.incidents.model import IncidentKind
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.wiring.settings import Settings
from ecs_watchdog.wiring.sweep import SweepLimits, build_sweep
from tests.integration.incident_events import ACCOUNT, REGION
from tests.integration.test_organization import member_session

MEMBER_A, MEMBER_B, REFUSING = "111111111111", "222222222222", "333333333333"
READ_ROLE = "ecs-watchdog-read"
STATE = "org-state"  # with the sweep's watch index, which the sandbox's table lacks


def create_services(hub: LocalAccount, account: str, stuck: int, healthy: int) -> None:
    """`stuck` services whose 2-hour-old deployment runs nothing, `healthy` ones running 2 of 2, in `account`."""
    ecs = member_session(hub, account).client("ecs") if account != ACCOUNT else hub.session.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "x", "memory": 128}])
    now = datetime.now(UTC)
    for n in range(stuck + healthy):
        failing = n < stuck
        ecs.create_service(cluster="prod", serviceName=f"svc-{n}", taskDefinition="app", desiredCount=2)
        service = ecs_backends[account][REGION]._get_service("prod", f"svc-{n}")
        service.running_count = 0 if failing else 2
        service.deployments = [
            {
                "id": f"ecs-svc/{n}",
                "status": "PRIMARY",
                "taskDefinition": f"arn:aws:ecs:{REGION}:{account}:task-definition/app:1",
                "rolloutState": "IN_PROGRESS" if failing else "COMPLETED",
                "createdAt": now - timedelta(hours=2 if failing else 30),
                "failedTasks": 9 if failing else 0,
                "runningCount": 0 if failing else 2,
                "desiredCount": 2,
            }
        ]


def create_state_table(hub: LocalAccount) -> None:
    hub.session.client("dynamodb").create_table(
        TableName=STATE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": WATCH_INDEX,
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def hub() -> Any:
    with local_account() as hub:
        create_state_table(hub)
        create_services(hub, ACCOUNT, stuck=0, healthy=2)
        create_services(hub, MEMBER_A, stuck=1, healthy=3)
        create_services(hub, MEMBER_B, stuck=2, healthy=1)
        assumed: list[str] = []

        def refuse(params: dict[str, Any], **_: Any) -> Any:
            assumed.append(params["body"]["RoleArn"])
            if f":{REFUSING}:" in params["body"]["RoleArn"]:
                error = {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"}
                return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), {
                    "Error": error,
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                }
            return None

        hub.session.events.register("before-call.sts.AssumeRole", refuse)
        hub.assumed = assumed  # type: ignore[attr-defined]
        yield hub


def hub_settings(hub: LocalAccount) -> Settings:
    return hub.settings.model_copy(
        update={
            "state_table_name": STATE,
            "member_accounts": f"{MEMBER_A},{MEMBER_B},{REFUSING}",
            "member_read_role": READ_ROLE,
            "member_contain_role": "ecs-watchdog-contain",  # the sweep never assumes it
            "member_external_id": f"ecs-watchdog-hub-{ACCOUNT}",
        }
    )


def test_the_hubs_sweep_walks_each_member_through_its_read_role_and_skips_one_it_cannot_assume(hub):
    sweep = build_sweep(hub_settings(hub), SweepLimits(), hub.session)
    report = sweep.run()

    assert report.stopped == "done" and report.lap_completed
    assert report.services_checked == 2 + 4 + 3  # the hub's own, then member A's and B's, each in its account
    assert [e for e in report.errors if REFUSING in e] == [e for e in report.errors]  # only the refusing one
    assert len(report.errors) == 1 and "AccessDenied" in report.errors[0]
    table = StateTable(hub.session.client("dynamodb"), STATE)
    for account, stuck in ((MEMBER_A, 1), (MEMBER_B, 2)):
        for n in range(stuck):
            state = table.load_service(f"{account}/{REGION}/prod/svc-{n}", fresh=True)
            assert state is not None, (account, n)
            assert [i.kind for i in state.incidents.values()] == [IncidentKind.STUCK_DEPLOYMENT]
        assert table.load_service(f"{account}/{REGION}/prod/svc-{stuck}", fresh=True) is None  # healthy
    # Read role only: the sweep never assumes the containment role.
    assert all(a.endswith(f":role/{READ_ROLE}") for a in hub.assumed)  # type: ignore[attr-defined]


def test_a_bounded_sweep_resumes_account_by_account_from_its_cursor_until_the_lap_completes(hub):
    sweep = build_sweep(hub_settings(hub), SweepLimits(max_services=3), hub.session)
    cursors = SweepCursorItem(hub.session.client("dynamodb"), STATE)
    reports, accounts = [], []
    for _ in range(4):
        reports.append(sweep.run())
        accounts.append(cursors.load().account)
    # moto answers a cluster's services in one page: a run stops at the first page past the limit (the hub's
    # 2 and member A's 4), the next resumes at member B, skips the refusing member and completes the lap.
    assert [r.stopped for r in reports] == ["max_services", "done", "max_services", "done"]
    assert [r.services_checked for r in reports] == [6, 3, 6, 3]
    assert accounts == [MEMBER_B, None, MEMBER_B, None]  # where the next run starts; None: the hub's own
    assert [r.lap_completed for r in reports] == [False, True, False, True]
    assert sum(r.findings.get("stuck_deployment", 0) for r in reports[:2]) == 3  # each service judged once a lap


def test_the_sweep_ticks_a_member_services_timers_through_the_members_pipeline(hub):
    settings = hub_settings(hub)
    build_sweep(settings, SweepLimits(), hub.session).run()  # opens member A's stuck incident
    second = build_sweep(settings, SweepLimits(), hub.session).run()  # a cold start: ticks the watched
    assert second.ticked == 3  # A's one, B's two: every watched service is a member's
    assert not [e for e in second.errors if MEMBER_A in e or MEMBER_B in e]
