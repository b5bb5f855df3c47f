"""The incident engine end to end against moto: the real handler, state table, ECS look-ups and messages."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.conflicts import StaleWrite
from ecs_watchdog.events import parse_envelope
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.wiring.events import build_pipeline
from tests.integration.incident_events import (
    ACCOUNT,
    CLUSTER,
    REGION,
    SERVICE,
    benign,
    bodies,
    deployment,
    service_action,
    stopped,
    td,
)
from tests.integration.service_setup import create_service, invoke


def subjects(account: LocalAccount) -> list[str]:
    return [m["Subject"] for m in account.sns_messages()]


def test_three_failed_launches_of_a_new_revision_open_one_incident_and_send_one_message(account):
    assert invoke(bodies(stopped(1, 1), stopped(2, 2)))["batchItemFailures"] == []
    assert subjects(account) == [] and account.slack.payloads == []
    assert invoke(bodies(stopped(3, 3), stopped(4, 4), benign(5, 5)))["batchItemFailures"] == []
    messages = account.sns_messages()
    assert [m["Subject"] for m in messages] == ["[ecs-watchdog] OPENED prod/api: Failing deployment (image)"]
    assert "Last known good: api:5" in messages[0]["Message"]  # bootstrapped from DescribeServices
    assert len(account.slack.payloads) == 1


def test_duplicate_and_reordered_deliveries_do_not_double_count(account):
    events = [stopped(1, 1), stopped(2, 2)]
    invoke(bodies(*events, *events))  # SQS delivered each twice
    invoke(bodies(stopped(2, 2, version=4), stopped(1, 1)))  # a later version, and an old one again
    assert subjects(account) == []
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert state is not None and state.revisions[td(6)].failures_since_healthy == 2


def test_deployment_completed_sets_last_known_good_and_resolves_the_incident(account):
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    invoke(bodies(deployment("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1000000000000000001", 9)))
    assert subjects(account) == [
        "[ecs-watchdog] OPENED prod/api: Failing deployment (image)",
        "[ecs-watchdog] RESOLVED prod/api: Failing deployment (image)",
    ]
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert (state.last_known_good, state.last_known_good_source) == (td(5), "deployment_completed")


def test_a_brand_new_service_has_no_last_known_good_to_guess():
    with local_account() as sandbox:
        create_service(sandbox, completed=None)
        ecs_events.install(sandbox.settings, sandbox.session)
        invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
        (message,) = sandbox.sns_messages()
    assert "Last known good: unknown" in message["Message"]


def test_a_service_tag_raises_the_threshold_for_that_service():
    with local_account() as sandbox:
        create_service(sandbox, tags={"ecs-watchdog:threshold": "5"})
        ecs_events.install(sandbox.settings, sandbox.session)
        invoke(bodies(*(stopped(n, n) for n in range(1, 5))))
        assert sandbox.sns_messages() == []
        invoke(bodies(stopped(5, 5)))
        assert len(sandbox.sns_messages()) == 1


def test_start_impaired_opens_an_incident_from_the_event_alone(account):
    invoke(bodies(service_action("SERVICE_TASK_START_IMPAIRED", 1)))
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Tasks cannot start"]


def test_two_deployments_in_progress_open_an_overlapping_deployments_incident():
    with local_account() as sandbox:
        create_service(sandbox, in_progress=(6, 7))
        ecs_events.install(sandbox.settings, sandbox.session)
        invoke(bodies(deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2000000000000000007", 1)))
        assert subjects(sandbox) == ["[ecs-watchdog] OPENED prod/api: Overlapping deployments"]


def test_a_deployment_in_progress_for_longer_than_thirty_minutes_is_stuck(account):
    invoke(bodies(deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2000000000000000006", 0)))
    invoke(bodies(service_action("SERVICE_TASK_PLACEMENT_FAILURE", 20)))
    assert subjects(account) == []
    invoke(bodies(service_action("SERVICE_TASK_PLACEMENT_FAILURE", 45)))
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Stuck deployment"]


def test_steady_state_of_an_unknown_healthy_service_costs_nothing(account):
    calls = count_calls(account)
    invoke(bodies(service_action("SERVICE_STEADY_STATE", 1)))
    assert sum(calls.values()) == 1 and calls["dynamodb.GetItem"] == 1


def test_five_services_failing_for_one_cause_make_one_account_incident():
    with local_account() as sandbox:
        names = [f"svc{n}" for n in range(6)]
        for name in names:
            create_service(sandbox, name)
        ecs_events.install(sandbox.settings, sandbox.session)
        for index, name in enumerate(names):
            invoke(bodies(*(stopped(index * 10 + k, index + k / 10, service=name) for k in range(3))))
        found = Counter(s.split(":")[0] for s in subjects(sandbox))
    # Four per-service incidents are announced; the fifth opens the account incident, whose message
    # names all five; the fifth and sixth services are folded into it (containment paused).
    assert found == Counter(
        {
            "[ecs-watchdog] OPENED prod/svc0": 1,
            "[ecs-watchdog] OPENED prod/svc1": 1,
            "[ecs-watchdog] OPENED prod/svc2": 1,
            "[ecs-watchdog] OPENED prod/svc3": 1,
            "[ecs-watchdog] OPENED us-east-1 account 123456789012": 1,
        }
    )


# -------------------------------------------------------------------------------------------------
# Exactly once under concurrency


class PausingStateTable(StateTable):
    """Makes two handlers both read before either writes, so their conditional writes collide."""

    def __init__(self, *args: Any, barrier: threading.Barrier, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.barrier, self.paused, self.stale = barrier, False, 0

    def load_service(self, service: str, fresh: bool = False):
        state = super().load_service(service, fresh)
        if not self.paused:
            self.paused = True
            self.barrier.wait(timeout=60)
        return state

    def save_service(self, state, expires_after):
        try:
            return super().save_service(state, expires_after)
        except StaleWrite:
            self.stale += 1
            raise


def test_two_handlers_racing_on_one_service_produce_exactly_one_transition(account):
    invoke(bodies(stopped(1, 1), stopped(2, 2)))
    barrier = threading.Barrier(2)
    pipelines = []
    for _ in range(2):
        pipeline = build_pipeline(account.settings, account.session)
        pipeline.state = PausingStateTable(
            account.session.client("dynamodb"), account.settings.state_table_name, barrier=barrier
        )
        pipelines.append(pipeline)
    events = [parse_envelope(stopped(3, 3)), parse_envelope(stopped(4, 4))]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda pair: pair[0].process(pair[1]), zip(pipelines, events, strict=True)))
    assert sorted(len(o.transitions) for o in outcomes) == [0, 1]
    loser = next(p for p, o in zip(pipelines, outcomes, strict=True) if not o.transitions)
    assert loser.state.stale >= 1  # its conditional write failed; it re-read and found the incident open
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Failing deployment (image)"]
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    (incident,) = state.incidents.values()
    assert incident.failures == 4 and state.outbox == []


@pytest.fixture
def atomic_conditional_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB evaluates a condition and writes the item atomically; in-process moto does not (it
    has no lock around PutItem), so threads can interleave inside it. Give moto that one guarantee."""
    from moto.dynamodb.models import DynamoDBBackend

    lock, put_item = threading.Lock(), DynamoDBBackend.put_item

    def atomic_put_item(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return put_item(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", atomic_put_item)


@pytest.mark.usefixtures("atomic_conditional_writes")
def test_fifty_threads_delivering_one_services_failures_open_exactly_one_incident(account):
    settings = account.settings.model_copy(update={"mode": "notify"})  # counting only: nothing to contain
    pipelines = [build_pipeline(settings, account.session) for _ in range(50)]  # one per "container"
    events = [parse_envelope(stopped(n, n / 10)) for n in range(50)]
    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(lambda pair: pair[0].process(pair[1]), zip(pipelines, events, strict=True)))
    assert sum(len(o.transitions) for o in outcomes) == 1
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Failing deployment (image)"]
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert next(iter(state.incidents.values())).failures == 50


def test_a_transition_stored_but_not_announced_is_announced_on_redelivery():
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        invoke(bodies(stopped(1, 1), stopped(2, 2)))
        failed = invoke(bodies(stopped(3, 3)))["batchItemFailures"]
        assert len(failed) == 1  # Slack down: the record goes back to SQS
        sandbox.sns_messages()  # SNS got it before Slack failed; drop that copy
        sandbox.slack.status = 200
        assert invoke(bodies(stopped(3, 3)), receive_count=2)["batchItemFailures"] == []
        assert len(sandbox.slack.payloads) == 1
        assert invoke(bodies(stopped(3, 3)), receive_count=3)["batchItemFailures"] == []
        assert len(sandbox.slack.payloads) == 1  # delivered once: the outbox was acknowledged


# -------------------------------------------------------------------------------------------------
# Cost per event


def count_calls(account: LocalAccount) -> Counter[str]:
    """Count every AWS call the pipeline makes, with a botocore hook on the real clients."""
    calls: Counter[str] = Counter()

    def record(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")[:3]
        calls[f"{service}.{operation}"] += 1

    account.session.events.register("before-call.*.*", record)
    ecs_events.install(account.settings, account.session)
    return calls


def test_a_benign_stop_costs_no_call_at_all(account):
    calls = count_calls(account)
    invoke(bodies(benign(1, 1)))
    assert calls == Counter()


def test_a_failure_costs_one_read_and_one_write_and_a_warm_one_only_the_write_and_a_look_at_the_tasks(account):
    calls = count_calls(account)
    invoke(bodies(stopped(1, 1)))
    probe = {"ecs.DescribeServices": 1, "ecs.DescribeTaskDefinition": 1, "ecr.DescribeImages": 1}
    # Below the threshold, a new revision's failure also reads the service's desired count and its tasks: is
    # anything left to wait for (contain/transient.py)? DescribeServices, two ListTasks (RUNNING, STOPPED);
    # moto lists no task, so no DescribeTasks.
    tasks = {"ecs.DescribeServices": 1, "ecs.ListTasks": 2}
    # The first failure of a revision also runs the probe that can confirm its cause (the image
    # exists here, so it does not), once per revision and container.
    assert calls == Counter({"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "ecs.DescribeServices": 1}) + Counter(
        probe
    ) + Counter(tasks)
    calls.clear()
    invoke(bodies(stopped(2, 2)))
    assert calls == Counter({"dynamodb.PutItem": 1}) + Counter(tasks)


def test_a_service_tagged_notify_pays_no_look_at_its_tasks():
    with local_account() as sandbox:
        create_service(sandbox, tags={"ecs-watchdog:action": "notify"})
        calls = count_calls(sandbox)
        invoke(bodies(stopped(1, 1)))  # the first stop reads the tags (DescribeServices); the second does not
        calls.clear()
        invoke(bodies(stopped(2, 2)))
    assert calls["ecs.ListTasks"] == 0 and calls["ecs.DescribeServices"] == 0


def test_the_failure_that_opens_an_incident_writes_three_times_and_notifies_once(account):
    calls = count_calls(account)
    invoke(bodies(stopped(1, 1), stopped(2, 2)))
    calls.clear()
    invoke(bodies(stopped(3, 3)))
    writes = {k: v for k, v in calls.items() if k.startswith("dynamodb")}
    # service state + outbox, the account's correlation record (read and write), containment's decision
    # recorded on the incident (dry-run: the exact call it would make), outbox acknowledged
    assert writes == {"dynamodb.PutItem": 4, "dynamodb.GetItem": 1}
    assert calls["ecs.DescribeServices"] == 1  # containment decides on a fresh DescribeServices
    assert calls["sns.Publish"] == 1 and calls["secrets-manager.GetSecretValue"] == 1


def test_a_warm_container_with_an_old_copy_still_resolves_the_incident_another_opened(account):
    container_a = build_pipeline(account.settings, account.session)
    container_b = build_pipeline(account.settings, account.session)
    container_a.process(parse_envelope(stopped(1, 1)))  # A now holds a copy without any incident
    for n in (2, 3):
        container_b.process(parse_envelope(stopped(n, n)))  # B opens the incident
    outcome = container_a.process(parse_envelope(service_action("SERVICE_STEADY_STATE", 9)))
    assert [t.kind for t in outcome.transitions] == ["resolved"]
    assert subjects(account)[-1] == "[ecs-watchdog] RESOLVED prod/api: Failing deployment (image)"


def test_when_slack_fails_after_sns_took_it_the_retry_sends_slack_only():
    with local_account(slack_status=500) as sandbox:
        create_service(sandbox)
        ecs_events.install(sandbox.settings, sandbox.session)
        invoke(bodies(stopped(1, 1), stopped(2, 2)))
        assert len(invoke(bodies(stopped(3, 3)))["batchItemFailures"]) == 1
        sandbox.slack.status = 200
        assert invoke(bodies(stopped(3, 3)), receive_count=2)["batchItemFailures"] == []
        assert len(sandbox.sns_messages()) == 1 and len(sandbox.slack.payloads) == 1


def test_a_throttled_describe_services_hands_the_event_back_instead_of_forgetting_the_last_known_good():
    import boto3
    from botocore.stub import Stubber

    from ecs_watchdog.aws.ecs import Services

    client = boto3.client("ecs", region_name=REGION)  # a real botocore model, answered by Stubber
    with Stubber(client) as stub:
        stub.add_client_error("describe_services", "ThrottlingException", "Rate exceeded")
        with pytest.raises(client.exceptions.ClientError, match="ThrottlingException"):
            Services(client).snapshot(CLUSTER, SERVICE)
        stub.add_client_error("describe_services", "ClusterNotFoundException", "Cluster not found.")
        assert Services(client).snapshot(CLUSTER, SERVICE) is None
        stub.add_response("describe_services", {"services": [], "failures": [{"arn": "x", "reason": "MISSING"}]})
        assert Services(client).snapshot(CLUSTER, SERVICE) is None


# -------------------------------------------------------------------------------------------------
# Late, odd and foreign events (EventBridge promises neither order nor a single delivery)


def test_failures_from_before_a_revision_was_seen_healthy_never_open_a_crash_loop(account):
    invoke(bodies(deployment("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/2000000000000000006", 10)))
    # Three failures of revision 6 that happened before its deployment completed arrive after it.
    invoke(bodies(stopped(1, 7), stopped(2, 8), stopped(3, 9)))
    assert subjects(account) == []
    invoke(bodies(stopped(4, 11), stopped(5, 12)))
    assert subjects(account) == []  # two real ones since it was healthy: below the threshold
    invoke(bodies(stopped(6, 13)))
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Crash loop (image)"]


def test_a_stop_older_than_a_closed_incident_reopens_nothing(account):
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    invoke(bodies(service_action("SERVICE_STEADY_STATE", 5)))  # resolved at minute 5
    invoke(bodies(benign(9, 30)))  # a later event: nothing to say
    invoke(bodies(service_action("SERVICE_TASK_PLACEMENT_FAILURE", 30)))  # timers run: closed at minute 30
    assert subjects(account) == [
        "[ecs-watchdog] OPENED prod/api: Failing deployment (image)",
        "[ecs-watchdog] RESOLVED prod/api: Failing deployment (image)",
    ]
    invoke(bodies(stopped(4, 4)))  # a stop from minute 4 arrives late
    invoke(bodies(stopped(5, 4.5), stopped(6, 4.8)))
    assert subjects(account) == []  # nothing reopened, nothing new


def test_a_late_in_progress_of_a_deployment_ecs_no_longer_lists_never_becomes_stuck(account):
    invoke(bodies(deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2000000000000000099", 0)))
    invoke(bodies(service_action("SERVICE_TASK_PLACEMENT_FAILURE", 45)))
    assert subjects(account) == []
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert state is None or "ecs-svc/2000000000000000099" not in state.deployments


def test_events_from_another_account_or_region_are_ignored_not_looked_up_here(account):
    calls = count_calls(account)
    foreign = [stopped(n, n) for n in (1, 2, 3)]
    for event in foreign:
        event["account"] = "999999999999"
    elsewhere = [stopped(n, n) for n in (4, 5, 6)]
    for event in elsewhere:
        event["region"] = "eu-west-1"
    assert invoke(bodies(*foreign, *elsewhere))["batchItemFailures"] == []
    assert calls == Counter()  # no look-up in this account, no state written
    assert subjects(account) == []


def test_a_steady_state_older_than_the_latest_failure_resolves_nothing(account):
    invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    invoke(bodies(service_action("SERVICE_STEADY_STATE", 2.5)))  # emitted before the third failure
    assert subjects(account) == ["[ecs-watchdog] OPENED prod/api: Failing deployment (image)"]


def test_services_that_fail_recover_and_relapse_together_make_three_account_messages_per_channel():
    from tests.integration.guard_storm import run_episode

    fail, recover, relapse = run_episode(12)
    assert [p.failed_records for p in (fail, recover, relapse)] == [0, 0, 0]
    assert fail.sns == fail.slack == 5  # four services announced before the guard tripped, then the account
    assert fail.subjects[-1].startswith("[ecs-watchdog] OPENED us-east-1 account 123456789012")
    assert recover.subjects == [
        "[ecs-watchdog] RESOLVED us-east-1 account 123456789012: Many services failing at once (image)"
    ]
    assert relapse.subjects == [
        "[ecs-watchdog] REOPENED us-east-1 account 123456789012: Many services failing at once (image)"
    ]
    assert recover.slack == relapse.slack == 1


def test_an_enforcing_watchdog_in_a_storm_acts_only_before_the_guard_trips_and_within_the_hourly_cap():
    from tests.integration.guard_storm import run_episode

    # Five services fail together: the first four are contained (the guard has not tripped yet), the
    # fifth trips it and nothing more is done while it holds...
    fail, recover, relapse = run_episode(8, mode="enforce")
    assert (fail.actions, recover.actions, relapse.actions) == (4, 0, 0)
    # ...and the account's hourly cap holds whatever the guard says.
    fail, _, _ = run_episode(8, mode="enforce", max_actions_per_hour=2)
    assert fail.actions == 2
