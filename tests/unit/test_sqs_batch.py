"""The events handler's partial batch response: only the records that raised go back to SQS."""

from __future__ import annotations

import logging

import pytest

from ecs_watchdog.flow.sqs_batch import partial_response


def records(*bodies: str) -> list[dict[str, str]]:
    return [{"messageId": f"m-{i}", "body": body, "receiptHandle": "r"} for i, body in enumerate(bodies)]


def handle(body: str, message_id: str) -> None:
    if body == "bad":
        raise RuntimeError(f"cannot process {message_id}")


def test_only_the_records_that_raised_are_reported_for_retry(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        response = partial_response(records("good", "bad", "good"), handle, logging.getLogger("test"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    (warning,) = caplog.records
    assert warning.exc_info is not None and "cannot process m-1" in str(warning.exc_info[1])


def test_a_batch_whose_records_all_fail_answers_with_all_of_them_instead_of_raising() -> None:
    response = partial_response(records("bad", "bad"), handle, logging.getLogger("test"))
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}


def test_a_batch_that_all_succeeds_reports_nothing() -> None:
    seen: list[tuple[str, str]] = []
    response = partial_response(records("a", "b"), lambda body, mid: seen.append((body, mid)), logging.getLogger("t"))
    assert response == {"batchItemFailures": []}
    assert seen == [("a", "m-0"), ("b", "m-1")]
