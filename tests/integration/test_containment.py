"""Containment end to end on moto: the real handler opens an incident, decides on a fresh DescribeServices
and acts (or, in dry-run, reports the exact call), once, and undo restores what it changed."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.ecs.models import ecs_backends

from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.events import parse_envelope
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.wiring.events import build_pipeline
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, bodies, stopped, td
from tests.integration.service_setup import create_service, invoke

KEY = f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"


def moto_service(name: str = SERVICE) -> Any:
    return ecs_backends[ACCOUNT][REGION]._get_service(CLUSTER, name)


def serving(old_running: int, new_running: int = 0, *, completed: int | None = 5, name: str = SERVICE) -> None:
    """What DescribeServices says while revision 6 rolls out: the old revision's running tasks."""
    service = moto_service(name)
    deployments = [
        {
            "id": "ecs-svc/2000000000000000006",
            "status": "PRIMARY",
            "taskDefinition": td(6),
            "rolloutState": "IN_PROGRESS",
            "desiredCount": 2,
            "runningCount": new_running,
        }
    ]
    if completed is not None:
        deployments.append(
            {
                "id": "ecs-svc/1000000000000000001",
                "status": "ACTIVE",
                "taskDefinition": td(completed),
                "rolloutState": "COMPLETED",
                "desiredCount": 2,
                "runningCount": old_running,
            }
        )
    service.deployments = deployments


def sandbox_with(mode: Mode, **service: Any) -> Iterator[LocalAccount]:
    with local_account() as sandbox:
        create_service(sandbox, **service)
        settings = sandbox.settings.model_copy(update={"mode": mode})
        sandbox.settings = settings
        ecs_events.install(settings, sandbox.session)
        yield sandbox


@pytest.fixture
def enforcing() -> Iterator[LocalAccount]:
    yield from sandbox_with(Mode.ENFORCE)


@pytest.fixture
def dry_run() -> Iterator[LocalAccount]:
    yield from sandbox_with(Mode.DRY_RUN)


def state(sandbox: LocalAccount):
    return StateTable(sandbox.session.client("dynamodb"), sandbox.settings.state_table_name).load_service(KEY)


def calls(sandbox: LocalAccount) -> list[str]:
    assert sandbox.service_deployments is not None
    return [name for name, _ in sandbox.service_deployments.calls if name != "ListServiceDeployments"]


def test_a_failing_rollout_with_old_tasks_serving_is_rolled_back_once_and_announced(enforcing):
    serving(old_running=2)
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3), stopped(4, 4)))
    assert calls(enforcing) == ["StopServiceDeployment"]
    (stop,) = [p for n, p in enforcing.service_deployments.calls if n == "StopServiceDeployment"]
    assert stop["stopType"] == "ROLLBACK" and stop["serviceDeploymentArn"].endswith("/2000000000000000006")
    assert moto_service().task_definition.endswith("api:5")  # back on the last known good
    subjects = [m["Subject"] for m in enforcing.sns_messages()]
    # Opened and contained by one event: one message says both (issue 25).
    assert subjects == ["[ecs-watchdog] OPENED AND CONTAINED prod/api: Failing deployment (image)"]
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "contained" and incident.containment["outcome"] == "done"
    invoke(bodies(stopped(5, 5), stopped(6, 6)))  # more failures of the incident: no second action
    assert calls(enforcing) == ["StopServiceDeployment"]


def test_dry_run_reports_the_exact_call_in_the_message_and_changes_nothing(dry_run):
    serving(old_running=2)
    before = moto_service().task_definition
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert calls(dry_run) == [] and moto_service().task_definition == before
    assert len(dry_run.sns_messages()) == 1  # opened; nothing was contained
    (incident,) = state(dry_run).incidents.values()
    assert incident.status == "open" and incident.containment["outcome"] == "dry_run"
    assert incident.containment["action"]["calls"][0]["operation"] == "StopServiceDeployment"


def test_with_no_healthy_task_and_a_last_known_good_it_rolls_back_with_update_service(enforcing):
    serving(old_running=0, completed=None)
    moto_service().deployments[0]["rolloutState"] = "COMPLETED"  # revision 6 is the service's steady revision
    state_before = state(enforcing)
    assert state_before is None
    invoke(bodies(stopped(1, 1)))  # first sight: DescribeServices bootstraps the last known good
    stored = state(enforcing)
    stored.last_known_good = td(5)  # the revision it ran before (as a COMPLETED event would have set it)
    StateTable(enforcing.session.client("dynamodb"), enforcing.settings.state_table_name).save_service(
        stored, stored.updated_at
    )
    ecs_events.install(enforcing.settings, enforcing.session)  # a new container: no stale copy
    invoke(bodies(stopped(2, 2), stopped(3, 3), stopped(4, 4), stopped(7, 4.5)))
    assert moto_service().task_definition.endswith("api:5")
    (incident,) = state(enforcing).incidents.values()
    assert incident.containment["action"]["kind"] in ("rollback_update_service", "rollback_deployment")


def test_with_nothing_to_roll_back_to_it_scales_to_zero_tags_the_count_and_restore_brings_it_back(enforcing):
    serving(old_running=0, completed=None)
    moto_service().desired_count = 2
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    service = moto_service()
    assert service.desired_count == 0
    tags = {
        t["key"]: t["value"]
        for t in enforcing.session.client("ecs").list_tags_for_resource(resourceArn=service.arn)["tags"]
    }
    assert tags["ecs-watchdog:previous-desired-count"] == "2"
    subjects = [m["Subject"] for m in enforcing.sns_messages()]
    assert subjects[-1] == "[ecs-watchdog] OPENED AND CONTAINED prod/api: Failing deployment (image)"
    answer = ecs_events.handler({"restore": {"cluster": CLUSTER, "service": SERVICE}}, LocalLambdaContext())
    assert answer["restore"]["kind"] == "restore_desired_count" and answer["restore"]["outcome"] == "done"
    assert moto_service().desired_count == 2


def test_a_service_tagged_ignore_is_neither_acted_on_nor_announced():
    for sandbox in sandbox_with(Mode.ENFORCE, tags={"ecs-watchdog:action": "ignore"}):
        serving(old_running=2)
        invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
        assert calls(sandbox) == [] and sandbox.sns_messages() == [] and sandbox.slack.payloads == []


def test_a_person_who_changed_the_service_just_before_the_action_makes_it_stand_down(enforcing):
    serving(old_running=2)
    invoke(bodies(stopped(1, 1), stopped(2, 2)))
    containment = ecs_events.intake().pipeline.containment
    assert containment is not None
    describe, described = containment.actions.describe_service_view, []

    def person_acts_between_decision_and_action(cluster: str, service: str) -> Any:
        described.append(service)
        if len(described) == 2:  # the re-read right before acting sees the person's deploy
            moto_service().deployments[0]["taskDefinition"] = td(7)
        return describe(cluster, service)

    containment.actions.describe_service_view = person_acts_between_decision_and_action  # type: ignore[method-assign]
    invoke(bodies(stopped(3, 3)))  # opens the incident; containment decides, claims, re-reads
    assert len(described) == 2 and calls(enforcing) == []
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "open"
    assert incident.containment["action"]["kind"] == "stand_down"
    assert "person got there first" in incident.containment["action"]["reason"]


def test_two_invocations_deciding_for_one_incident_make_one_action(enforcing):
    serving(old_running=2)
    notify_only = build_pipeline(enforcing.settings.model_copy(update={"mode": Mode.NOTIFY}), enforcing.session)
    for n in (1, 2, 3):
        notify_only.process(parse_envelope(stopped(n, n)))  # the incident opens while nobody contains
    barrier = threading.Barrier(2)
    pipelines = [build_pipeline(enforcing.settings, enforcing.session) for _ in range(2)]
    for pipeline in pipelines:
        assert pipeline.containment is not None
        describe = pipeline.containment.actions.describe_service_view

        def in_step(cluster: str, service: str, describe=describe) -> Any:
            view = describe(cluster, service)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)  # both decide on the same view before either claims
            return view

        pipeline.containment.actions.describe_service_view = in_step  # type: ignore[method-assign]
    with ThreadPoolExecutor(2) as pool:
        list(
            pool.map(
                lambda pair: pair[0].process(parse_envelope(pair[1])),
                zip(pipelines, [stopped(4, 4), stopped(5, 5)], strict=True),
            )
        )
    assert calls(enforcing) == ["StopServiceDeployment"]
