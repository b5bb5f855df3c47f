"""Every inbound payload, as AWS documents it, through the real handlers against moto: what a user sees.

Each fixture in tests/fixtures/events is the structure a named AWS page (or AWS sample) documents; here
it is moved into the sandbox's account, region and cluster and onto a service of its own, and handed to the
events function as SQS delivers it (or to the lifecycle hook function as ECS invokes it, or from the Lambda
console), and the test asserts what people would see: a message, a stop classified, a hook answered,
nothing at all. One moto account serves the module (a sandbox costs most of a second); each test has its
own service, so no test sees another's state.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.handlers import ecs_events, lifecycle_hook
from ecs_watchdog.incidents.model import IncidentStatus
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from ecs_watchdog.wiring.lifecycle_hook import build_lambda_hook_gate
from infra.console_events import events_function_examples
from tests.conftest import FIXTURES, load_event
from tests.integration.documented_payloads import (
    PausedHooks,
    ServiceRevisionsOf,
    console,
    doc_hook,
    doc_lambda_hook,
    doc_service,
    doc_task,
    moved,
    relocated,
)
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, bodies, stamp, stopped, td
from tests.integration.service_setup import create_service, invoke
from tests.integration.test_handler_metrics import emf_lines, totals

IN_PROGRESS = "ecs-svc/2000000000000000006"  # each service's PRIMARY deployment, of api:6
COMPLETED = "ecs-svc/1000000000000000001"  # its COMPLETED one, of api:5
GATED = {"ecs-watchdog:gate": "on", "ecs-watchdog:action": "notify"}  # answer hooks; never contain
HOOK_TIME = datetime(2026, 3, 5, 15, 54, 41, tzinfo=UTC)  # the documented hook event's time; it expires 10 min on
_names = itertools.count(1)


class Sandbox:
    """The module's moto account, ECS's side of the calls moto lacks, and this test's service."""

    def __init__(self, account: LocalAccount, hooks: PausedHooks, revisions: ServiceRevisionsOf) -> None:
        self.account, self.hooks, self.revisions = account, hooks, revisions
        self.service, self.start = "", 0

    def new_service(self, *, tags: dict[str, str] | None = None, mode: Mode = Mode.DRY_RUN) -> str:
        number = next(_names)
        # Each service fails in a window of its own: never many at once (the correlated-failure guard).
        self.service, self.start = f"svc{number}", 30 * number
        create_service(self.account, self.service, tags=tags)
        settings = self.account.settings.model_copy(update={"mode": mode})
        ecs_events.install(settings, self.account.session, clock=lambda: HOOK_TIME)
        return self.service

    @property
    def key(self) -> str:
        return f"{ACCOUNT}/{REGION}/{CLUSTER}/{self.service}"

    def subjects(self) -> list[str]:
        return [m["Subject"] for m in self.account.sns_messages()]

    def store(self) -> StateTable:
        return StateTable(self.account.session.client("dynamodb"), self.account.settings.state_table_name)

    def state(self) -> Any:
        return self.store().load_service(self.key)

    def at(self, minute: float) -> str:
        """A time `minute` minutes into this service's window."""
        return stamp(self.start + minute)

    def opened_incident(self) -> None:
        """Three failed launches of api:6 (the PRIMARY, IN_PROGRESS revision): its incident opens."""
        failures = (stopped(n, self.start + n, service=self.service) for n in (1, 2, 3))
        assert invoke(bodies(*failures))["batchItemFailures"] == []
        assert self.subjects() == [f"[ecs-watchdog] OPENED {CLUSTER}/{self.service}: Failing deployment (image)"]


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[LocalAccount, PausedHooks, ServiceRevisionsOf]]:
    with local_account() as account:
        hooks = PausedHooks().install(account.session)
        revisions = ServiceRevisionsOf().install(account.session)
        yield account, hooks, revisions


@pytest.fixture
def sandbox(shared: tuple[LocalAccount, PausedHooks, ServiceRevisionsOf]) -> Iterator[Sandbox]:
    account, hooks, revisions = shared
    hooks.reset()
    revisions.calls.clear()
    account.sns_messages(), account.parked()  # what an earlier test left is not this test's
    yield Sandbox(account, hooks, revisions)
    lifecycle_hook._gate = None


def processed(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, str | None]]:
    """(outcome, reason, category) of each `event processed` log line, in order."""
    return [
        (r.outcome, r.reason, r.category)  # type: ignore[attr-defined]
        for r in caplog.records
        if r.getMessage() == "event processed"
    ]


# -- ECS Task State Change ---------------------------------------------------------------------------------


def test_the_documented_stopped_task_stopped_by_a_person_is_classified_benign_and_tells_nobody(sandbox, caplog):
    service = sandbox.new_service()
    caplog.set_level(logging.INFO)
    assert invoke(bodies(relocated("task_state_change_stopped", doc_task(service))))["batchItemFailures"] == []
    assert processed(caplog) == [("benign", "user-initiated", "user")]
    assert sandbox.subjects() == []


def test_the_documented_spot_termination_notice_is_a_running_task_and_changes_nothing(sandbox, caplog):
    sandbox.new_service()
    caplog.set_level(logging.INFO)
    notice = relocated("task_state_change_spot_interruption", (("111122223333", ACCOUNT),))
    # The doc's sample elides `time` and `region`; every delivered event has both (its ARNs say us-east-1).
    notice.update(time="2016-12-06T16:43:05Z", region="us-east-1")
    assert invoke(bodies(notice))["batchItemFailures"] == []
    assert processed(caplog) == [("ignored", "task is RUNNING, not STOPPED", None)]
    assert sandbox.account.parked() == [] and sandbox.subjects() == []


def test_the_documented_running_task_is_ignored(sandbox, caplog):
    service = sandbox.new_service()
    caplog.set_level(logging.INFO)
    assert invoke(bodies(relocated("task_state_change_running", doc_service(service))))["batchItemFailures"] == []
    assert processed(caplog) == [("ignored", "task is RUNNING, not STOPPED", None)]


# -- ECS Deployment State Change -----------------------------------------------------------------------------


def test_the_documented_failed_deployment_opens_an_incident_and_tells_people(sandbox):
    service = sandbox.new_service()
    failed = relocated("deployment_failed", doc_service(service), deploymentId=IN_PROGRESS)
    assert invoke(bodies(failed))["batchItemFailures"] == []
    (subject,) = sandbox.subjects()
    assert subject.startswith(f"[ecs-watchdog] OPENED {CLUSTER}/{service}: Failing deployment")


def test_the_documented_completed_deployment_resolves_and_makes_its_revision_the_last_known_good(sandbox):
    service = sandbox.new_service()
    sandbox.opened_incident()
    completed = relocated("deployment_completed", doc_service(service), deploymentId=COMPLETED)
    completed["time"] = completed["detail"]["updatedAt"] = sandbox.at(10)
    assert invoke(bodies(completed))["batchItemFailures"] == []
    assert sandbox.subjects() == [f"[ecs-watchdog] RESOLVED {CLUSTER}/{service}: Failing deployment (image)"]
    assert sandbox.state().last_known_good == td(5)


@pytest.mark.parametrize("sample", ["deployment_in_progress", "deployment_in_progress_rollback"])
def test_the_documented_deployment_in_progress_is_tracked_quietly(sandbox, sample):
    service = sandbox.new_service()
    assert invoke(bodies(relocated(sample, doc_service(service), deploymentId=IN_PROGRESS)))["batchItemFailures"] == []
    assert sandbox.subjects() == []
    assert sandbox.state().deployments[IN_PROGRESS].status == "IN_PROGRESS"


# -- ECS Service Action --------------------------------------------------------------------------------------


def test_the_documented_task_start_impaired_opens_an_incident(sandbox):
    service = sandbox.new_service()
    assert (
        invoke(bodies(relocated("service_action_task_start_impaired", doc_service(service))))["batchItemFailures"] == []
    )
    (subject,) = sandbox.subjects()
    assert subject.startswith(f"[ecs-watchdog] OPENED {CLUSTER}/{service}:")


def test_the_documented_steady_state_resolves_the_open_incident(sandbox):
    service = sandbox.new_service()
    sandbox.opened_incident()
    steady = relocated("service_action_steady_state", doc_service(service))
    steady["time"] = steady["detail"]["createdAt"] = sandbox.at(10)
    assert invoke(bodies(steady))["batchItemFailures"] == []
    assert sandbox.subjects() == [f"[ecs-watchdog] RESOLVED {CLUSTER}/{service}: Failing deployment (image)"]


@pytest.mark.parametrize(
    "sample",
    [
        "service_action_capacity_provider_steady_state",
        "service_action_task_placement_failure_ec2_cpu",
        "service_action_task_placement_failure_fargate_spot",
    ],
)
def test_the_documented_informational_service_actions_tell_nobody(sandbox, caplog, sample):
    service = sandbox.new_service()
    caplog.set_level(logging.INFO)
    assert invoke(bodies(relocated(sample, doc_service(service))))["batchItemFailures"] == []
    assert sandbox.subjects() == [] and sandbox.account.parked() == []
    assert [outcome for outcome, _, _ in processed(caplog)] == ["counted"]  # on the service's timeline only


# -- AWS API Call via CloudTrail (ECS errors) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "subject"),
    [
        (
            "cloudtrail_register_task_definition_error",
            "[ecs-watchdog] OPENED task-definition/backend: Service cannot be configured (task_definition)",
        ),
        (
            "cloudtrail_run_task_access_denied",
            "[ecs-watchdog] OPENED production/migrate: Service cannot be configured (permissions)",
        ),
        (
            "cloudtrail_update_service_error",
            "[ecs-watchdog] OPENED production/backend: Service cannot be configured (service_configuration)",
        ),
    ],
)
def test_the_documented_failed_ecs_api_calls_are_announced_once(sandbox, sample, subject):
    sandbox.new_service()
    event = load_event(sample)
    event["detail"]["eventID"] = f"{event['detail']['eventID']}-{sandbox.service}"  # a new call, each test
    event["time"] = event["detail"]["eventTime"] = sandbox.at(0)
    assert invoke(bodies(event, event))["batchItemFailures"] == []  # delivered twice
    assert sandbox.subjects() == [subject]


# -- ECS Hook State Change (PAUSE hooks) ----------------------------------------------------------------------


def awaiting(service: str, **detail: Any) -> dict[str, Any]:
    return relocated("hook_state_change_awaiting_action", doc_hook(service), **detail)


def test_the_documented_hook_of_a_failing_revision_is_rolled_back_once_however_often_it_arrives(sandbox, capsys):
    service = sandbox.new_service(tags=GATED, mode=Mode.ENFORCE)
    sandbox.opened_incident()
    hook = awaiting(service)
    capsys.readouterr()
    assert invoke(bodies(hook, hook))["batchItemFailures"] == []  # twice in one batch
    assert invoke(bodies(hook), receive_count=2)["batchItemFailures"] == []  # and again later
    detail = hook["detail"]
    assert sandbox.hooks.calls == [
        {"serviceDeploymentArn": detail["serviceDeploymentArn"], "hookId": detail["hookId"], "action": "ROLLBACK"}
    ]
    counted = totals(emf_lines(capsys.readouterr().out))
    assert counted[("HookAnswers", (("result", "answered"), ("verdict", "ROLLBACK")))] == 1
    assert counted[("HookAnswers", (("result", "already_answered"), ("verdict", "skipped")))] == 2


def test_the_documented_hook_of_a_healthy_revision_continues(sandbox):
    service = sandbox.new_service(tags=GATED, mode=Mode.ENFORCE)
    assert invoke(bodies(awaiting(service)))["batchItemFailures"] == []
    assert [c["action"] for c in sandbox.hooks.calls] == ["CONTINUE"]


@pytest.mark.parametrize("mode", [Mode.DRY_RUN, Mode.NOTIFY])
def test_the_documented_hook_of_a_failing_revision_fails_open_in_dry_run_and_notify(sandbox, mode):
    service = sandbox.new_service(tags=GATED, mode=mode)
    sandbox.opened_incident()  # enforce mode would answer ROLLBACK
    assert invoke(bodies(awaiting(service)))["batchItemFailures"] == []
    assert [c["action"] for c in sandbox.hooks.calls] == ["CONTINUE"]  # never left to its timeout action


def test_a_hook_event_after_its_expiry_is_skipped_without_a_call(sandbox, caplog):
    service = sandbox.new_service(tags=GATED, mode=Mode.ENFORCE)
    caplog.set_level(logging.INFO)
    late = awaiting(service, expiresAt=(HOOK_TIME - timedelta(seconds=1)).isoformat())
    assert invoke(bodies(late))["batchItemFailures"] == []
    assert sandbox.hooks.calls == []
    ((outcome, reason, _),) = processed(caplog)
    assert outcome == "ignored" and "expired" in reason


def test_a_hook_someone_else_answered_is_not_retried_into_the_dlq(sandbox, capsys):
    service = sandbox.new_service(tags=GATED, mode=Mode.ENFORCE)
    hook = awaiting(service)
    sandbox.hooks.answered.add((hook["detail"]["serviceDeploymentArn"], hook["detail"]["hookId"]))  # a person, first
    capsys.readouterr()
    assert invoke(bodies(hook))["batchItemFailures"] == []
    assert len(sandbox.hooks.calls) == 1
    counted = totals(emf_lines(capsys.readouterr().out))
    assert counted[("HookAnswers", (("result", "no_longer_awaiting"), ("verdict", "CONTINUE")))] == 1


def test_a_throttled_answer_is_retried_by_sqs_and_answered_on_the_retry(sandbox):
    service = sandbox.new_service(tags=GATED, mode=Mode.ENFORCE)
    sandbox.hooks.throttle = 1
    hook = awaiting(service)
    (failed,) = invoke(bodies(hook))["batchItemFailures"]
    assert failed["itemIdentifier"]
    assert invoke(bodies(hook), receive_count=2)["batchItemFailures"] == []
    assert [c["action"] for c in sandbox.hooks.calls] == ["CONTINUE", "CONTINUE"] and len(sandbox.hooks.answered) == 1


# -- The Lambda lifecycle hook invocation ---------------------------------------------------------------------


def invoked(
    sandbox: Sandbox, mode: Mode = Mode.ENFORCE, *, judged: bool = True, kill_switch: str | None = None
) -> dict[str, Any]:
    """The documented invocation (tests/fixtures/events/lambda_hook_invocation.json) of the test's service,
    answered by the lifecycle hook function as its wiring builds it over the sandbox's table and ECS, with
    the account's mode in its environment as infra sets it. `judged`: whether the hook looks at the revision
    at all (not in notify mode, nor for a service tagged down)."""
    environ = {"STATE_TABLE_NAME": sandbox.account.settings.state_table_name, "WATCHDOG_MODE": str(mode)}
    if kill_switch is not None:  # the parameter, set to this value
        name = f"/ecs-watchdog/kill-switch-{sandbox.service}"
        sandbox.account.session.client("ssm").put_parameter(Name=name, Value=kill_switch, Type="String")
        environ["KILL_SWITCH_PARAMETER"] = name
    lifecycle_hook._gate = build_lambda_hook_gate(environ, sandbox.account.session)
    event = moved(load_event("lambda_hook_invocation"), doc_lambda_hook(sandbox.service))
    answer = lifecycle_hook.handler(event, LocalLambdaContext())
    asked = [{"serviceRevisionArns": [event["executionDetails"]["targetServiceRevisionArn"]]}]
    assert sandbox.revisions.calls == (asked if judged else [])
    return answer


def answered_log(caplog: pytest.LogCaptureFixture) -> dict[str, Any]:
    """The hook function's `lifecycle hook answered` log line: what it answered, and why."""
    (record,) = [r for r in caplog.records if r.getMessage() == "lifecycle hook answered"]
    return {k: getattr(record, k, None) for k in ("hookStatus", "reason", "trouble")}


def test_the_documented_lambda_hook_of_a_revision_with_an_open_incident_fails_it(sandbox):
    sandbox.new_service()
    sandbox.opened_incident()
    assert invoked(sandbox) == {"hookStatus": "FAILED"}


def test_the_documented_lambda_hook_of_a_contained_revision_fails_it(sandbox):
    sandbox.new_service()
    sandbox.opened_incident()
    state = sandbox.state()
    (incident,) = state.incidents.values()
    incident.status = IncidentStatus.CONTAINED  # rolled back for failing, then deployed again
    sandbox.store().save_service(state, HOOK_TIME)
    assert invoked(sandbox) == {"hookStatus": "FAILED"}


def test_in_dry_run_the_documented_lambda_hook_of_a_failing_revision_succeeds_and_says_it_would_fail(sandbox, caplog):
    sandbox.new_service()
    sandbox.opened_incident()
    caplog.set_level(logging.INFO)
    assert invoked(sandbox, Mode.DRY_RUN) == {"hookStatus": "SUCCEEDED"}  # ECS never rolls it back
    logged = answered_log(caplog)
    assert logged["hookStatus"] == "SUCCEEDED" and logged["trouble"] is False
    assert logged["reason"].startswith("dry-run: would answer FAILED: the target revision is held back")


def test_in_notify_mode_the_documented_lambda_hook_of_a_failing_revision_succeeds(sandbox, caplog):
    sandbox.new_service()
    sandbox.opened_incident()
    caplog.set_level(logging.INFO)
    assert invoked(sandbox, Mode.NOTIFY, judged=False) == {"hookStatus": "SUCCEEDED"}
    assert answered_log(caplog)["reason"].startswith("notify mode: the watchdog does not judge deployments")


def test_in_an_enforce_account_the_lambda_hook_of_a_service_tagged_notify_succeeds(sandbox, caplog):
    sandbox.new_service(tags={"ecs-watchdog:action": "notify"})
    sandbox.opened_incident()
    caplog.set_level(logging.INFO)
    assert invoked(sandbox, Mode.ENFORCE, judged=False) == {"hookStatus": "SUCCEEDED"}
    assert "tagged ecs-watchdog:action=notify" in answered_log(caplog)["reason"]


def test_with_the_kill_switch_on_the_documented_lambda_hook_of_a_failing_revision_succeeds(sandbox, caplog):
    sandbox.new_service()
    sandbox.opened_incident()
    caplog.set_level(logging.INFO)
    assert invoked(sandbox, Mode.ENFORCE, kill_switch="on") == {"hookStatus": "SUCCEEDED"}
    assert answered_log(caplog)["reason"].startswith("the kill switch is engaged, so dry-run: would answer FAILED")


def test_with_the_kill_switch_off_the_documented_lambda_hook_of_a_failing_revision_fails(sandbox):
    sandbox.new_service()
    sandbox.opened_incident()
    assert invoked(sandbox, Mode.ENFORCE, kill_switch="off") == {"hookStatus": "FAILED"}


def test_the_documented_lambda_hook_of_a_revision_never_seen_failing_succeeds(sandbox):
    sandbox.new_service()
    assert invoked(sandbox) == {"hookStatus": "SUCCEEDED"}


def test_the_documented_lambda_hook_while_undecided_asks_again_and_keeps_its_hook_details(sandbox):
    sandbox.new_service()
    one = stopped(1, sandbox.start + 1, service=sandbox.service)
    assert invoke(bodies(one))["batchItemFailures"] == []  # one failure: no incident yet
    answer = invoked(sandbox)
    assert answer["hookStatus"] == "IN_PROGRESS" and answer["callBackDelay"] == 30
    assert answer["hookDetails"]["team"] == "payments"  # the hook's own details, handed back to ECS


# -- The Lambda console's test events (infra/console_events.py, docs/console.md) -------------------------------


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("task-stopped-image-not-found", {"outcome": "counted", "category": "image", "failure": True}),
        ("deployment-failed", {"outcome": "transition", "category": None, "failure": None}),
        ("service-task-start-impaired", {"outcome": "transition", "category": None, "failure": None}),
    ],
)
def test_each_console_test_event_runs_through_the_handler_and_answers_what_it_did(sandbox, example, expected):
    service = sandbox.new_service()
    event = moved(events_function_examples(ACCOUNT, REGION)[example], console(service))
    answer = ecs_events.handler(event, LocalLambdaContext())
    assert {k: answer[k] for k in expected} == expected
    assert [t["kind"] for t in answer["transitions"]] == (["opened"] if expected["outcome"] == "transition" else [])


# -- ECS Container Instance Health Change ------------------------------------------------------------------


def test_the_documented_container_instance_health_sample_is_parsed_and_changes_nothing(sandbox, caplog):
    sandbox.new_service()
    caplog.set_level(logging.INFO)
    sample = relocated(
        "container_instance_health_ok", (("123456789012", ACCOUNT), ("us-west-2", "us-east-1"))
    )  # an OK of an instance never seen impaired: nothing to resolve, nobody to tell
    assert invoke(bodies(sample))["batchItemFailures"] == []
    assert processed(caplog) == [("ignored", "an instance the watchdog did not know as impaired is OK", None)]
    assert sandbox.account.parked() == [] and sandbox.subjects() == []


# -- Every fixture is a documented one, and is exercised here -------------------------------------------------

EXERCISED = {
    "task_state_change_stopped",
    "task_state_change_spot_interruption",
    "task_state_change_running",
    "deployment_failed",
    "deployment_completed",
    "deployment_in_progress",
    "deployment_in_progress_rollback",
    "service_action_task_start_impaired",
    "service_action_steady_state",
    "service_action_capacity_provider_steady_state",
    "service_action_task_placement_failure_ec2_cpu",
    "service_action_task_placement_failure_fargate_spot",
    "cloudtrail_register_task_definition_error",
    "cloudtrail_run_task_access_denied",
    "cloudtrail_update_service_error",
    "hook_state_change_awaiting_action",
    "lambda_hook_invocation",
    "container_instance_health_ok",
}


def test_every_fixture_names_its_aws_source_and_goes_through_a_handler_here():
    files = sorted((FIXTURES / "events").glob("*.json"))
    assert {f.stem for f in files} == EXERCISED
    for path in files:
        meta = json.loads(path.read_text())
        assert meta["_source"].startswith(("https://docs.aws.amazon.com/", "https://github.com/aws-samples/")), path
        assert meta["_title"], path
