"""The pipeline on in-memory adapters when many services fail at once (the account guard speaks for
them), and for events that must change nothing: foreign ones and late ones."""

from __future__ import annotations

from collections import Counter

from ecs_watchdog.flow.pipeline import Pipeline
from ecs_watchdog.incidents import member_set
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy
from tests.fakes import MemoryServices, MemoryStore, RecordingChannel, completed_snapshot, process, watchdog
from tests.integration.incident_events import (
    ACCOUNT,
    CLUSTER,
    REGION,
    SERVICE,
    deployment,
    service_action,
    stopped,
    td,
)

KEY = f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
DEPLOYMENT = "ecs-svc/2000000000000000002"  # the deployment the builders' stops belong to


def channels() -> tuple[RecordingChannel, RecordingChannel]:
    return RecordingChannel("sns"), RecordingChannel("slack")


def two_failures(pipeline: Pipeline) -> None:
    """Two failures of a revision never seen healthy: one short of the default threshold."""
    process(pipeline, stopped(1, 1))
    process(pipeline, stopped(2, 2))


# --------------------------------------------------------------------------------------------------
# A storm: many services failing together


def test_two_hundred_services_failing_recovering_and_relapsing_together_send_a_handful_of_messages():
    store = MemoryStore()
    sns, slack = channels()
    pipeline = watchdog(store, channels=[sns, slack])
    names = [f"svc{i:03d}" for i in range(200)]
    n = 0
    for round_ in range(3):  # three failures each: every service opens a failing-deployment incident
        for i, name in enumerate(names):
            n += 1
            process(pipeline, stopped(n, round_ + i / 1000, service=name))
    for i, name in enumerate(names):  # the fix rolls out everywhere
        process(pipeline, deployment("SERVICE_DEPLOYMENT_COMPLETED", DEPLOYMENT, 5 + i / 1000, service=name))
    for i, name in enumerate(names):  # and the same failure comes back
        n += 1
        process(pipeline, stopped(n, 8 + i / 1000, service=name))

    per_channel = {c.name: Counter(str(s.transition.kind) for s in c.sent) for c in (sns, slack)}
    account = [s.transition for s in sns.sent if s.transition.incident.kind is IncidentKind.CORRELATED]
    services = [s.transition for s in sns.sent if s.transition.incident.kind is not IncidentKind.CORRELATED]
    assert [t.kind for t in account] == [TransitionKind.OPENED, TransitionKind.RESOLVED, TransitionKind.REOPENED]
    assert [t.kind for t in services] == [TransitionKind.OPENED] * (LoopPolicy().correlated_services - 1)
    assert per_channel["sns"] == per_channel["slack"]
    assert len(sns.sent) == len(slack.sent) == 7  # 4 openings before the guard trips, then 3 for all 200
    state = store.account(f"{ACCOUNT}/{REGION}")
    active = {m for packed in state.members.values() for m in member_set.members(packed)}
    assert state.outbox == [] and len(active) == 200  # every service's incident still counted, by digest


# --------------------------------------------------------------------------------------------------
# Events that must change nothing


def test_events_from_another_account_or_region_are_ignored_without_touching_anything():
    store = MemoryStore()
    sns, slack = channels()
    pipeline = watchdog(store, channels=[sns, slack], home=(ACCOUNT, REGION))
    foreign = [stopped(n, n) for n in (1, 2, 3)]
    for event in foreign[:2]:
        event.update(account="999999999999")
    foreign[2].update(region="eu-west-1")

    outcomes = [process(pipeline, event) for event in foreign]

    assert {o.kind for o in outcomes} == {"ignored"}
    assert "deploy one per account and region" in outcomes[0].reason
    assert store.items == {} and sum(store.calls.values()) == 0 and sns.sent == []


def test_a_late_stop_from_before_its_revision_was_healthy_opens_nothing():
    store = MemoryStore()
    sns, slack = channels()
    pipeline = watchdog(store, channels=[sns, slack])
    two_failures(pipeline)
    process(pipeline, deployment("SERVICE_DEPLOYMENT_COMPLETED", DEPLOYMENT, 10))

    late = process(pipeline, stopped(3, 5))  # would be the third failure, had it come in order

    assert late.transitions == () and "before its revision was seen healthy" in late.reason
    state = store.service(KEY)
    assert state.incidents == {} and state.revisions[td(6)].failures_since_healthy == 0
    assert sns.sent == []


def test_a_late_stop_older_than_a_closed_incident_neither_reopens_it_nor_opens_another():
    store = MemoryStore()
    sns, slack = channels()
    pipeline = watchdog(store, channels=[sns, slack])
    two_failures(pipeline)
    process(pipeline, stopped(3, 3))  # opens
    process(pipeline, service_action("SERVICE_STEADY_STATE", 5))  # resolves (no revision marked healthy)
    process(pipeline, service_action("SERVICE_STEADY_STATE", 25))  # quiet for the window: closes
    assert store.service(KEY).incidents == {} and len(store.archived) == 1
    sent_before = sns.ids()

    late = process(pipeline, stopped(4, 4))  # failed before the resolution, delivered after the close

    assert late.transitions == () and "before its (closed) incident was resolved" in late.reason
    assert store.service(KEY).incidents == {} and sns.ids() == sent_before


def test_a_late_in_progress_of_a_deployment_ecs_no_longer_lists_never_becomes_stuck():
    store = MemoryStore()
    sns, slack = channels()
    services = MemoryServices(default=completed_snapshot(td(5)))
    pipeline = watchdog(store, channels=[sns, slack], services=services)

    late = process(pipeline, deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/9999999999999999999", 1))
    later = process(pipeline, service_action("SERVICE_TASK_PLACEMENT_FAILURE", 60))  # long past 30 minutes

    assert "which ECS no longer lists: ignored" in late.reason
    assert "ecs-svc/9999999999999999999" not in store.service(KEY).deployments
    assert later.transitions == () and store.service(KEY).incidents == {} and sns.sent == []
