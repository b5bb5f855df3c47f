"""The sweep over 200 services in moto: paginated, throttled, bounded, resumed; timers of quiet services.

ECS throttling is injected below botocore's retry handler (`before-send`, registered ahead of moto's
own, answers 400 ThrottlingException on some calls), so the adapters see what Lambda would: botocore
retries, then either succeeds or gives up. API calls are counted with the same hook (every attempt counts).
botocore's waits (retry backoff, the adaptive client-side rate limiter) are recorded instead of slept
(`waits`): the tests assert they happened without spending their 20 s of wall time.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.retries.bucket import TokenBucket
from moto import mock_aws
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.ecs_inventory import EcsInventory
from ecs_watchdog.aws.state_table import WATCH_INDEX, StateTable
from ecs_watchdog.aws.sweep_cursor import SweepCursorItem
from ecs_watchdog.incidents.model import Incident, IncidentKind, IncidentStatus, ServiceState
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.sweep.step import Sweep
from ecs_watchdog.wiring.settings import Settings
from ecs_watchdog.wiring.sweep import SweepLimits, build_sweep

ACCOUNT, REGION = "123456789012", "us-east-1"
CLUSTERS = {"prod": 120, "staging": 50, "batch": 30}  # 200 services
FAILING = ("prod/svc-007", "staging/svc-003", "batch/svc-011")


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class Traffic:
    """Counts every attempt per operation; throttles every `throttle_every`-th ECS attempt of `throttled`."""

    throttle_every: int = 0
    throttled: tuple[str, ...] = ("ListServices", "DescribeServices")
    calls: Counter[str] | None = None
    throttles: int = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1] or "?"
        assert self.calls is not None
        self.calls[operation] += 1
        if (
            self.throttle_every
            and operation in self.throttled
            and "ecs." in request.url
            and self.calls[operation] % self.throttle_every == 0
        ):
            self.throttles += 1
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-requestid": "throttled"}, _Raw(body))
        return None


@dataclass
class Waits:
    """What botocore would have waited: backoff sleeps between attempts and rate-limiter token requests."""

    backoff_seconds: list[float]
    limited_sends: int = 0

    def sleep(self, seconds: float) -> None:
        self.backoff_seconds.append(seconds)

    def __getattr__(self, name: str) -> Any:  # botocore.endpoint's other uses of the time module
        return getattr(time, name)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    recorded = Waits(backoff_seconds=[])

    def acquire(bucket: TokenBucket, amount: int = 1, block: bool = True) -> bool:
        recorded.limited_sends += amount
        return True

    monkeypatch.setattr(botocore.endpoint, "time", recorded)  # the retry handler's time.sleep(backoff)
    monkeypatch.setattr(TokenBucket, "acquire", acquire)  # adaptive mode, once throttled, paces every send
    return recorded


@pytest.fixture
def account() -> Iterator[tuple[boto3.Session, Settings]]:
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        topic = session.client("sns").create_topic(Name="alerts")["TopicArn"]
        session.client("dynamodb").create_table(
            TableName="state",
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
        _create_services(session)
        yield session, Settings(topic_arn=topic, state_table_name="state")


def _create_services(session: boto3.Session) -> None:
    ecs = session.client("ecs")
    ecs.register_task_definition(family="app", containerDefinitions=[{"name": "app", "image": "x", "memory": 128}])
    now = datetime.now(UTC)
    for cluster, count in CLUSTERS.items():
        ecs.create_cluster(clusterName=cluster)
        for n in range(count):
            ecs.create_service(cluster=cluster, serviceName=f"svc-{n:03d}", taskDefinition="app", desiredCount=2)
            service = ecs_backends[ACCOUNT][REGION]._get_service(cluster, f"svc-{n:03d}")
            failing = f"{cluster}/svc-{n:03d}" in FAILING
            # Healthy: one COMPLETED primary running 2 of 2. Failing: a 2-hour-old deployment that runs nothing.
            service.running_count = 0 if failing else 2
            service.deployments = [
                {
                    "id": f"ecs-svc/{n}{len(cluster)}",
                    "status": "PRIMARY",
                    "taskDefinition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/app:1",
                    "rolloutState": "IN_PROGRESS" if failing else "COMPLETED",
                    "createdAt": now - timedelta(hours=2 if failing else 30),
                    "failedTasks": 9 if failing else 0,
                    "runningCount": 0 if failing else 2,
                    "desiredCount": 2,
                }
            ]


def page_like_ecs(session: boto3.Session, page_size: int = 10) -> None:
    """moto answers ListServices with every service at once; ECS pages them (maxResults, nextToken)."""

    def take_token(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["offset"] = int(params.pop("nextToken", "0"))
        context["page_size"] = min(params.get("maxResults", page_size), page_size)

    def page(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        offset, size = context.get("offset", 0), context.get("page_size", page_size)
        arns = parsed.get("serviceArns", [])
        parsed["serviceArns"] = arns[offset : offset + size]
        parsed.pop("nextToken", None)
        if offset + size < len(arns):
            parsed["nextToken"] = str(offset + size)

    session.events.register("before-parameter-build.ecs.ListServices", take_token)
    session.events.register("after-call.ecs.ListServices", page)


def _sweep(session: boto3.Session, settings: Settings, traffic: Traffic, **limits: Any) -> Sweep:
    traffic.calls = Counter()
    session.events.register_first("before-send", traffic)  # clients made after this carry the hooks
    page_like_ecs(session)
    return build_sweep(settings, SweepLimits(**limits), session)


def test_sweep_of_200_services_through_throttling_flags_the_failing_ones_and_opens_their_incidents(account, waits):
    session, settings = account
    traffic = Traffic(throttle_every=4)
    sweep = _sweep(session, settings, traffic)
    started = time.perf_counter()
    report = sweep.run()
    elapsed = time.perf_counter() - started
    assert report.stopped == "done" and report.lap_completed and report.errors == []
    assert report.services_checked == 200
    assert report.pages == 20  # ListServices pages of 10 (120 + 50 + 30)
    assert traffic.throttles > 0  # botocore retried them all: nothing surfaced
    assert len(waits.backoff_seconds) == traffic.throttles  # after a backoff each
    assert waits.limited_sends > 0  # and the adaptive rate limiter paced the sends after the first throttle
    assert {line.split(":")[0] for line in report.flagged} == set(FAILING)
    assert report.findings["stuck_deployment"] == 3 and report.findings["failed_tasks_climbing"] == 3
    states = StateTable(session.client("dynamodb"), "state")
    for label in FAILING:
        state = states.load_service(f"{ACCOUNT}/{REGION}/{label}", fresh=True)
        assert state is not None
        # The stuck deployment's timer fires first (when the sweep's start-impaired event is processed);
        # the start-impaired line then joins that one incident's timeline.
        assert [i.kind for i in state.incidents.values()] == [IncidentKind.STUCK_DEPLOYMENT]
    assert states.load_service(f"{ACCOUNT}/{REGION}/prod/svc-000", fresh=True) is None  # healthy: no state
    print(f"\nsweep of 200 services: {elapsed:.2f} s, calls {dict(traffic.calls)}, throttled {traffic.throttles}")


def test_a_second_run_ticks_the_services_it_holds_state_for_and_opens_the_stuck_deployment(account):
    session, settings = account
    sweep = _sweep(session, settings, Traffic())
    sweep.run()
    second = sweep.run()
    assert second.ticked == 3  # exactly the failing services: the sparse index holds nothing else
    assert second.services_checked == 200 and second.errors == []


def test_a_run_bounded_to_50_services_resumes_where_it_stopped_until_the_lap_completes(account):
    session, settings = account
    sweep = _sweep(session, settings, Traffic(), max_services=50)
    reports = [sweep.run() for _ in range(4)]
    assert [r.stopped for r in reports] == ["max_services"] * 3 + ["done"]
    assert [r.services_checked for r in reports] == [50, 50, 50, 50]
    assert [r.lap_completed for r in reports] == [False, False, False, True]
    assert sum(r.findings.get("failed_tasks_climbing", 0) for r in reports) == 3  # each service judged once


def test_throttling_past_the_retries_stops_the_run_and_the_next_run_resumes_from_the_cursor(account, waits):
    session, _ = account
    traffic = Traffic(throttle_every=1, throttled=("DescribeServices",))
    traffic.calls = Counter()
    session.events.register_first("before-send", traffic)
    page_like_ecs(session)
    client = session.client("ecs", config=Config(retries={"mode": "standard", "max_attempts": 2}))
    table = session.client("dynamodb")
    cursors = SweepCursorItem(table, "state")
    processed: list[Any] = []
    sweep = Sweep(
        inventory=EcsInventory(client),
        watched=StateTable(table, "state"),
        cursors=cursors,
        process=processed.append,
        tick=lambda ref, now: None,
        policy=LoopPolicy(),
        clock=lambda: datetime.now(UTC),
    )
    refused = sweep.run()
    assert refused.stopped == "ecs_error" and "ThrottlingException" in refused.errors[0]
    assert refused.services_checked == 0 and cursors.load().cluster is not None
    traffic.throttle_every = 0
    resumed = sweep.run()
    assert resumed.stopped == "done" and resumed.services_checked == 200


def test_a_quiet_service_with_a_resolved_incident_is_closed_by_the_sweep(account):
    session, settings = account
    states = StateTable(session.client("dynamodb"), "state")
    resolved_at = datetime.now(UTC) - timedelta(minutes=20)
    key = f"{ACCOUNT}/{REGION}/prod/svc-001"
    incident = Incident(
        id="inc-1",
        service=key,
        kind=IncidentKind.CRASH_LOOP,
        status=IncidentStatus.RESOLVED,
        opened_at=resolved_at - timedelta(minutes=30),
        updated_at=resolved_at,
        resolved_at=resolved_at,
    )
    states.save_service(ServiceState(service=key, bootstrapped=True, incidents={"inc-1": incident}), resolved_at)
    report = _sweep(session, settings, Traffic()).run()
    assert report.ticked == 1
    state = states.load_service(key, fresh=True)
    assert state is not None and state.incidents == {}
    archived = session.client("dynamodb").get_item(
        TableName="state", Key={"pk": {"S": "INCIDENT#inc-1"}, "sk": {"S": "INCIDENT"}}
    )
    assert "Item" in archived
    assert key not in states.watched_services(10)[0]  # closed: it left the index


def test_the_scheduled_handler_builds_the_sweep_from_its_environment_and_reports(account, monkeypatch):
    from ecs_watchdog.handlers import sweep as sweep_handler
    from ecs_watchdog.replay.local_lambda import LocalLambdaContext

    _, settings = account
    monkeypatch.setenv("ALERTS_TOPIC_ARN", settings.topic_arn)
    monkeypatch.setenv("STATE_TABLE_NAME", settings.state_table_name)
    monkeypatch.setenv("SWEEP_MAX_SERVICES", "120")
    monkeypatch.setattr(sweep_handler, "_sweep", None)
    answer = sweep_handler.handler({"source": "aws.scheduler"}, LocalLambdaContext())
    # Without the paging hook moto answers a whole cluster per ListServices page; a run stops at the first
    # page boundary at or past the limit (batch 30 + prod 120). ECS pages by 10: at most 9 over.
    assert (answer["stopped"], answer["checked"]) == ("max_services", 150)
    assert {line.split(":")[0] for line in answer["flagged"]} == {"batch/svc-011", "prod/svc-007"}
