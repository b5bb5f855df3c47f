"""A PAUSE hook is answered once: duplicates, late events and ECS's "no longer awaiting" refusal never
page anyone through the DLQ. ContinueServiceDeployment goes through the real adapter (aws/ecs_actions.py)
over a real botocore client with Stubber (moto 5.2.5 lacks the operation); the answers store is an
in-memory one with the state table's conditional-write semantics.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ecs_watchdog.aws.ecs_actions import EcsActions
from ecs_watchdog.conflicts import StaleWrite
from ecs_watchdog.contain.models import ApiCall, CallOutcomeUnknown, Mode, ServiceView
from ecs_watchdog.gate.answers import AnswerStatus, HookAnswerRecord, claim
from ecs_watchdog.gate.pause import DeploymentGate
from ecs_watchdog.metrics.catalog import HOOK_RESULTS, HOOK_VERDICTS
from tests.unit.test_gate import DETAIL, NOW, FakeActions, Later, state_with

CONTINUE = {"serviceDeploymentArn": DETAIL["serviceDeploymentArn"], "hookId": "hook-1", "action": "CONTINUE"}
ROLLBACK = {**CONTINUE, "action": "ROLLBACK"}


class MemoryAnswers:
    """The state table's semantics for hook answers: a put conditional on the revision read."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], HookAnswerRecord] = {}
        self.before_save: Callable[[], None] | None = None  # runs once, between a read and the next write

    def load(self, service_deployment_arn: str, hook_id: str) -> HookAnswerRecord | None:
        found = self.items.get((service_deployment_arn, hook_id))
        return copy.deepcopy(found)

    def save(self, record: HookAnswerRecord) -> HookAnswerRecord:
        if self.before_save is not None:
            interleave, self.before_save = self.before_save, None
            interleave()
        key = (record.service_deployment_arn, record.hook_id)
        stored = self.items.get(key)
        if (stored.revision if stored else 0) != record.revision:
            raise StaleWrite(str(key))
        saved = record.model_copy(update={"revision": record.revision + 1})
        self.items[key] = saved
        return copy.deepcopy(saved)


class StubbedEcs:
    """The gate's actions: the service as DescribeServices shows it, and the real adapter's `make` over a
    botocore ECS client whose ContinueServiceDeployment answers are queued with Stubber."""

    def __init__(self, stubber: Stubber, actions: EcsActions) -> None:
        self.stubber, self._actions, self._view = stubber, actions, FakeActions()

    def describe_service_view(self, cluster: str, service: str) -> ServiceView:
        return self._view.describe_service_view(cluster, service)

    def make(self, call: ApiCall) -> None:
        self._actions.make(call)


@pytest.fixture
def ecs() -> Iterator[StubbedEcs]:
    client = boto3.client("ecs", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield StubbedEcs(stubber, EcsActions(client, boto3.client("application-autoscaling", region_name="us-east-1")))
        stubber.assert_no_pending_responses()


def accepted(ecs: StubbedEcs, params: dict[str, str]) -> None:
    ecs.stubber.add_response(
        "continue_service_deployment", {"serviceDeploymentArn": params["serviceDeploymentArn"]}, params
    )


def refused(ecs: StubbedEcs, params: dict[str, str], code: str, status: int = 400, message: str = "") -> None:
    ecs.stubber.add_client_error(
        "continue_service_deployment",
        service_error_code=code,
        service_message=message or f"{code} from ECS",
        http_status_code=status,
        expected_params=params,
    )


def gate(ecs: StubbedEcs, answers: MemoryAnswers | None = None, mode: Mode = Mode.ENFORCE) -> DeploymentGate:
    return DeploymentGate(ecs, mode, answers=answers if answers is not None else MemoryAnswers())


def test_a_duplicate_event_is_answered_once(ecs: StubbedEcs) -> None:
    answers = MemoryAnswers()
    accepted(ecs, ROLLBACK)  # one answer queued: a second call would fail the test
    first = gate(ecs, answers).answer(DETAIL, "{}", state_with(incident=True), NOW)
    again = gate(ecs, answers).answer(DETAIL, "{}", state_with(incident=True), NOW + timedelta(seconds=5))
    assert (first.verdict, first.result, first.made) == ("ROLLBACK", "answered", True)
    assert (again.verdict, again.result, again.made) == ("skipped", "already_answered", False)
    assert "already answered ROLLBACK" in again.reason
    (stored,) = answers.items.values()
    assert (stored.status, stored.verdict, stored.outcome) == (AnswerStatus.ANSWERED, "ROLLBACK", "made")


def test_a_duplicate_that_decides_otherwise_still_changes_nothing(ecs: StubbedEcs) -> None:
    # The state moved on between the two deliveries: the first answer stands, no second call is made.
    answers = MemoryAnswers()
    accepted(ecs, CONTINUE)
    gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW)
    again = gate(ecs, answers).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert again.result == "already_answered" and "CONTINUE" in again.reason


def test_two_containers_at_once_make_one_call(ecs: StubbedEcs) -> None:
    # Both read "unanswered"; the second writes its claim first and answers. The first's conditional write
    # then loses (StaleWrite), it reads again, finds the answer and leaves the hook alone.
    answers = MemoryAnswers()
    accepted(ecs, CONTINUE)
    results = []
    answers.before_save = lambda: results.append(gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW))
    loser = gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW)
    (winner,) = results
    assert (winner.result, winner.made) == ("answered", True)
    assert (loser.result, loser.made) == ("already_answered", False)


def test_an_event_past_expires_at_is_skipped_without_a_call(ecs: StubbedEcs) -> None:
    answer = gate(ecs).answer(DETAIL, "{}", state_with(incident=True), NOW + timedelta(hours=1))
    assert (answer.verdict, answer.result, answer.made) == ("skipped", "expired", False)
    assert "expired" in answer.reason and "timeout action" in answer.reason


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InvalidParameterException", "Service deployment is not awaiting action for lifecycle hook hook-1."),
        ("ServiceDeploymentNotFoundException", "The service deployment does not exist."),
    ],
)
def test_ecs_saying_the_hook_no_longer_awaits_action_is_logged_counted_and_not_retried(
    ecs: StubbedEcs, code: str, message: str
) -> None:
    answers = MemoryAnswers()
    refused(ecs, CONTINUE, code, message=message)
    answer = gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW)  # does not raise: SQS does not retry
    assert (answer.verdict, answer.result, answer.made) == ("CONTINUE", "no_longer_awaiting", False)
    assert code in answer.reason
    (stored,) = answers.items.values()
    assert (stored.status, stored.outcome) == (AnswerStatus.ANSWERED, "no_longer_awaiting")
    assert gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW).result == "already_answered"


@pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 400), ("AccessDeniedException", 400)])
def test_other_refusals_propagate_so_sqs_retries_and_the_retry_may_answer(
    ecs: StubbedEcs, code: str, status: int
) -> None:
    answers = MemoryAnswers()
    refused(ecs, CONTINUE, code, status)
    with pytest.raises(ClientError):
        gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW)
    (released,) = answers.items.values()
    assert released.status is AnswerStatus.RELEASED  # the retry does not wait for a lease to run out
    accepted(ecs, CONTINUE)
    retry = gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW + timedelta(seconds=30))
    assert (retry.result, retry.made) == ("answered", True)


def test_a_server_error_is_an_unknown_outcome_retried_and_the_retry_learns_it_was_applied(ecs: StubbedEcs) -> None:
    answers = MemoryAnswers()
    refused(ecs, CONTINUE, "ServerException", 500)
    with pytest.raises(CallOutcomeUnknown):
        gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW)
    # ECS had applied it after all: the retry's call is refused as no longer awaiting, and that settles it.
    refused(ecs, CONTINUE, "InvalidParameterException")
    assert gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW).result == "no_longer_awaiting"


def test_a_claim_whose_owner_died_is_taken_over_once_its_lease_ran_out(ecs: StubbedEcs) -> None:
    answers = MemoryAnswers()
    stale = claim(
        None,
        service_deployment_arn=CONTINUE["serviceDeploymentArn"],
        hook_id="hook-1",
        verdict="CONTINUE",
        reason="",
        owner="a-dead-invocation",
        now=NOW,
        lease=timedelta(seconds=90),
        hook_expires_at=NOW + timedelta(hours=1),
    )
    assert stale is not None
    answers.save(stale)
    assert gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW + timedelta(seconds=10)).result == (
        "already_answered"
    )
    accepted(ecs, CONTINUE)
    taken = gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW + timedelta(seconds=91))
    assert (taken.result, taken.made) == ("answered", True)


def test_dry_run_fails_open_with_continue_and_says_what_it_would_have_answered(ecs: StubbedEcs) -> None:
    answers = MemoryAnswers()
    accepted(ecs, CONTINUE)  # not the ROLLBACK it would answer in enforce mode
    answer = gate(ecs, answers, Mode.DRY_RUN).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert (answer.verdict, answer.result, answer.made) == ("CONTINUE", "failed_open", True)
    assert "would answer ROLLBACK" in answer.reason and "timeout action" in answer.reason
    again = gate(ecs, answers, Mode.DRY_RUN).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert again.result == "already_answered"  # once, as in enforce mode


def test_notify_mode_fails_open_with_continue_without_judging(ecs: StubbedEcs) -> None:
    accepted(ecs, CONTINUE)
    answer = gate(ecs, MemoryAnswers(), Mode.NOTIFY).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert (answer.verdict, answer.result, answer.made) == ("CONTINUE", "failed_open", True)


def test_every_result_is_in_the_metric_vocabulary(ecs: StubbedEcs) -> None:
    answers = MemoryAnswers()
    accepted(ecs, CONTINUE)
    accepted(ecs, {**CONTINUE, "hookId": "hook-2"})  # dry-run fails open
    seen: list[Any] = [
        gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW),
        gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW),
        gate(ecs, answers).answer(DETAIL, "{}", state_with(), NOW + timedelta(hours=2)),
        gate(ecs, answers, Mode.DRY_RUN).answer({**DETAIL, "hookId": "hook-2"}, "{}", state_with(), NOW),
        DeploymentGate(ecs, Mode.ENFORCE).answer({**DETAIL, "hookId": "hook-3"}, "{}", state_with(failures=1), NOW),
        gate(ecs, answers, Mode.NOTIFY).answer({"hookId": "no deployment named"}, "{}", None, NOW),
    ]
    assert {a.result for a in seen} == {"answered", "already_answered", "expired", "failed_open", "waiting", "skipped"}
    assert {a.result for a in seen} <= set(HOOK_RESULTS) and {a.verdict for a in seen} <= set(HOOK_VERDICTS)


def test_a_throttled_answer_is_tried_again_within_seconds_not_after_the_visibility_timeout(ecs: StubbedEcs) -> None:
    # Near its expiry the answer cannot wait for SQS's redelivery (6 minutes): the gate re-queues it itself.
    answers, later = MemoryAnswers(), Later()
    refused(ecs, CONTINUE, "ThrottlingException", 400)
    near_expiry = NOW + timedelta(minutes=58, seconds=30)
    answer = DeploymentGate(ecs, Mode.ENFORCE, later, answers).answer(DETAIL, "body", state_with(), near_expiry)
    assert (answer.result, answer.made) == ("waiting", False)
    assert later.queued == [("body", 10)]
    (released,) = answers.items.values()
    assert released.status is AnswerStatus.RELEASED
