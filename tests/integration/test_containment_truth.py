"""Containment in the account's bad moments (issue 22): an AWS error at each step between the claim and
the record, and a mode changed under a scaled-to-zero service. The rule: never say an action happened
that did not, and never hide one that did."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.commands.restore import add_restore_arguments, run_restore
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.gate.target import revision_held_back
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext
from ecs_watchdog.replay.sandbox import LocalAccount, audit_events
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, T0, bodies, stopped, td
from tests.integration.service_setup import invoke
from tests.integration.test_containment import calls, moto_service, sandbox_with, serving, state

THROTTLED = {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds the allowed"}


class Failing:
    """Answers an operation with an AWS error while `on` is set (a `before-call` hook on the session)."""

    def __init__(self, error: dict[str, str], status: int = 400) -> None:
        self.error, self.status, self.on, self.refused = error, status, False, 0

    def __call__(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if not self.on:
            return None
        self.refused += 1
        return AWSResponse("https://aws.local", self.status, {}, None), {
            "Error": self.error,
            "ResponseMetadata": {"HTTPStatusCode": self.status},
        }


class Clock:
    """The watchdog's wall clock, moved by the test (a claim's lease is measured by it)."""

    def __init__(self, minute: float) -> None:
        self.at = T0 + timedelta(minutes=minute)

    def __call__(self) -> datetime:
        return self.at

    def to(self, minute: float) -> None:
        self.at = T0 + timedelta(minutes=minute)


def backoff_recorded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The installed pipeline's and outbox's backoff between retries of a busy table, recorded instead of
    slept (their `pause`): the tests assert the waits happened without spending seconds on them."""
    waits: list[int] = []
    pipeline = ecs_events.intake().pipeline
    monkeypatch.setattr(pipeline, "pause", waits.append)
    monkeypatch.setattr(pipeline.outbox, "pause", waits.append)
    return waits


def with_hooks(sandbox: LocalAccount, hooks: dict[str, Failing], clock: Clock | None = None) -> None:
    for event, hook in hooks.items():
        sandbox.session.events.register_first(f"before-call.{event}", hook)
    # Clients built with the hooks in place.
    ecs_events.install(sandbox.settings, sandbox.session, **({"clock": clock} if clock else {}))


@pytest.fixture
def enforcing() -> Iterator[LocalAccount]:
    yield from sandbox_with(Mode.ENFORCE)


def subjects(sandbox: LocalAccount) -> list[str]:
    return [m["Subject"] for m in sandbox.sns_messages()]


def test_a_rollback_whose_record_is_lost_is_still_audited_and_announced_as_contained(enforcing, monkeypatch):
    writes, clock = Failing(THROTTLED), Clock(3)
    with_hooks(enforcing, {"dynamodb.PutItem": writes}, clock)
    serving(old_running=2)
    waits = backoff_recorded(monkeypatch)
    containment = ecs_events.intake().pipeline.containment
    assert containment is not None
    make = containment.actions.make

    def rollback_then_the_table_throttles(call: Any) -> None:
        make(call)
        writes.on = call.operation == "StopServiceDeployment"

    containment.actions.make = rollback_then_the_table_throttles  # type: ignore[method-assign]
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert calls(enforcing) == ["StopServiceDeployment"]
    assert writes.refused > 0 and waits  # the busy table was waited out before the record was given up
    audited = audit_events(enforcing.session)
    assert [a["detail"]["outcome"] for a in audited] == ["done"]  # written before the state, which was lost
    (incident,) = state(enforcing).incidents.values()
    assert incident.containment["outcome"] == "claimed"

    writes.on = False
    clock.to(4)
    invoke_batch(bodies(stopped(4, 4)))  # within the claim's lease (by the clock): left alone
    assert state(enforcing).incidents[incident.id].containment["outcome"] == "claimed"
    clock.to(8)
    invoke_batch(bodies(stopped(5, 4.5)))  # after it, however old the event: settled from the service
    assert calls(enforcing) == ["StopServiceDeployment"]  # not made twice
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "contained" and incident.containment["outcome"] == "done"
    assert "read from DescribeServices" in incident.containment["note"]
    assert subjects(enforcing)[-1] == "[ecs-watchdog] CONTAINED prod/api: Failing deployment (image)"


def test_a_claim_whose_account_write_failed_is_released_and_the_next_event_contains(enforcing, monkeypatch):
    account_writes = AccountWriteFails()
    with_hooks(enforcing, {"dynamodb.PutItem": account_writes})
    serving(old_running=2)
    waits = backoff_recorded(monkeypatch)
    containment = ecs_events.intake().pipeline.containment
    assert containment is not None
    describe = containment.actions.describe_service_view

    def the_account_item_throttles_from_now_on(cluster: str, service: str) -> Any:
        account_writes.on = True  # containment starts: its claim goes through, the account write fails
        return describe(cluster, service)

    containment.actions.describe_service_view = the_account_item_throttles_from_now_on  # type: ignore[method-assign]
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert account_writes.refused > 0 and calls(enforcing) == []  # nothing was done
    assert waits  # the busy table was waited out first
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "open" and incident.containment is None  # the claim was given back
    assert any("not attempted" in entry.detail for entry in incident.timeline)
    assert state(enforcing).last_action_at is None  # no cooldown from an action never made

    containment.actions.describe_service_view = describe  # type: ignore[method-assign]
    account_writes.on = False
    invoke_batch(bodies(stopped(4, 4)))
    assert calls(enforcing) == ["StopServiceDeployment"]
    assert subjects(enforcing)[-1] == "[ecs-watchdog] CONTAINED prod/api: Failing deployment (image)"


class AccountWriteFails(Failing):
    """Throttles PutItem of the account item only (its key is `ACCOUNT#<account>`)."""

    def __init__(self) -> None:
        super().__init__(THROTTLED)

    def __call__(self, **kwargs: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if b"ACCOUNT#" not in kwargs.get("params", {}).get("body", b""):
            return None
        return super().__call__(**kwargs)


def test_a_failed_rollback_is_announced_as_failed_never_as_taken_nor_counted(enforcing):
    refusing = Failing({"Code": "AccessDeniedException", "Message": "not authorized to perform StopServiceDeployment"})
    refusing.on = True
    with_hooks(enforcing, {"ecs.StopServiceDeployment": refusing})
    serving(old_running=2)
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert refusing.refused == 1
    assert moto_service().task_definition.endswith("api:6")  # nothing changed
    (opened,) = enforcing.sns_messages()  # read once: the capture queue hands each message out once
    assert opened["Subject"] == "[ecs-watchdog] OPENED prod/api: Failing deployment (image)"
    assert "Action FAILED" in opened["Message"] and "AccessDeniedException" in opened["Message"]
    assert "Action taken" not in opened["Message"]
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "open" and incident.containment["outcome"] == "failed"
    assert [a["detail"]["outcome"] for a in audit_events(enforcing.session)] == ["failed"]
    # An attempt ECS did not apply does not count against the account's hourly cap.
    table = StateTable(enforcing.session.client("dynamodb"), enforcing.settings.state_table_name)
    account = table.load_account(f"{ACCOUNT}/{REGION}", fresh=True)
    assert account is not None and account.action_times == []


def test_restore_after_the_account_went_back_to_dry_run_says_dry_run_and_changes_nothing(enforcing):
    serving(old_running=0, completed=None)
    moto_service().desired_count = 2
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert moto_service().desired_count == 0
    dry = enforcing.settings.model_copy(update={"mode": Mode.DRY_RUN})
    ecs_events.install(dry, enforcing.session)
    answer = ecs_events.handler({"restore": {"cluster": CLUSTER, "service": SERVICE}}, LocalLambdaContext())
    assert answer["restore"]["outcome"] == "dry_run" and answer["restore"]["mode"] == "dry-run"
    assert moto_service().desired_count == 0  # still scaled to zero: nothing was made, nothing claimed


def invoke_batch(events: list[str]) -> dict[str, Any]:
    return invoke(events)


def test_a_claim_left_by_an_invocation_that_died_before_its_calls_is_decided_afresh(enforcing):
    serving(old_running=2)
    notify_only = Mode.NOTIFY
    ecs_events.install(enforcing.settings.model_copy(update={"mode": notify_only}), enforcing.session)
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))  # opens; nobody contains
    stored = state(enforcing)
    (incident,) = stored.incidents.values()
    claimed_at = (T0 + timedelta(minutes=3.5)).isoformat()
    incident.containment = {"outcome": "claimed", "owner": "dead", "at": claimed_at, "claimed_at": claimed_at}
    stored.last_action_at = incident.opened_at  # the claim's cooldown
    table = StateTable(enforcing.session.client("dynamodb"), enforcing.settings.state_table_name)
    table.save_service(stored, stored.updated_at)
    clock = Clock(4)
    ecs_events.install(enforcing.settings, enforcing.session, clock=clock)
    invoke_batch(bodies(stopped(4, 4)))  # within the claim's lease: left alone
    assert calls(enforcing) == []
    clock.to(8)
    invoke_batch(bodies(stopped(5, 8)))  # after it, its calls never started: decided like a first time
    assert calls(enforcing) == ["StopServiceDeployment"]
    (incident,) = state(enforcing).incidents.values()
    assert incident.status == "contained"


def test_a_person_who_undoes_a_rollback_is_never_fought_by_the_gate_or_a_second_rollback(enforcing):
    serving(old_running=2)
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert calls(enforcing) == ["StopServiceDeployment"] and moto_service().task_definition.endswith("api:5")
    request = {"restore": {"cluster": CLUSTER, "service": SERVICE, "reapply_revision": True}}
    answer = ecs_events.handler(request, LocalLambdaContext())
    assert answer["restore"]["kind"] == "reapply_revision" and answer["restore"]["outcome"] == "done"
    stored = state(enforcing)
    assert revision_held_back(stored, td(6)) is False  # the Lambda hook lets the person's deployment through
    assert td(6) not in stored.failing_revisions()
    (incident,) = stored.incidents.values()
    assert incident.acted["undone_at"]
    serving(old_running=2)  # the person's deployment of 6 rolls out; 6 fails again, after the restore
    later = (datetime.now(UTC) - T0).total_seconds() / 60 + 1
    invoke_batch(bodies(stopped(11, later), stopped(12, later + 1), stopped(13, later + 2)))
    assert calls(enforcing) == ["StopServiceDeployment"]  # no second rollback of the person's choice
    assert revision_held_back(state(enforcing), td(6)) is True  # failed since: held back again


def test_a_restore_from_the_laptop_is_the_persons_call_too(enforcing, capsys):
    serving(old_running=0, completed=None)
    moto_service().desired_count = 2
    invoke_batch(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))
    assert moto_service().desired_count == 0
    moto_service().deployments[0]["rolloutState"] = "COMPLETED"  # the laptop's session lists no deployments
    parser = argparse.ArgumentParser()
    add_restore_arguments(parser)  # the command's own arguments and defaults (no --account: the own account)
    table = enforcing.settings.state_table_name
    args = parser.parse_args(["--cluster", CLUSTER, "--service", SERVICE, "--table", table, "--region", "us-east-1"])
    assert run_restore(args) == 0
    assert moto_service().desired_count == 2
    (incident,) = state(enforcing).incidents.values()
    assert incident.acted["undone_at"]  # the watchdog will not scale it to zero again
    assert "warning" not in capsys.readouterr().err  # the restore was recorded as the person's
    args.table = None
    assert run_restore(args) == 1  # nothing left to undo, and nothing to warn about
    assert "warning" not in capsys.readouterr().err
