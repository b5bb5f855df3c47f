"""Slack delivery against a local webhook endpoint: what is retried, for how long, and that the URL never leaks."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ecs_watchdog.aws.slack import SDK_LOGGER_NAME, SlackDeliveryError, SlackDown, SlackWebhook, sdk_logger
from tests.integration.fake_slack import WEBHOOK_PATH, FakeSlack, Reply, closed_port_url, fake_slack

PAYLOAD = {"text": "OPENED prod/api", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*api*"}}]}
SENT = {**PAYLOAD, "unfurl_links": False, "unfurl_media": False}  # what Slack gets: link previews off
TIMEOUT_SECONDS = 0.2


class Sleeps(list[float]):
    """Records each wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def webhook(url: str, sleeps: Sleeps) -> SlackWebhook:
    return SlackWebhook(lambda: url, timeout_seconds=TIMEOUT_SECONDS, sleep=sleeps)


def post(slack: FakeSlack, sleeps: Sleeps | None = None) -> None:
    webhook(slack.url, sleeps if sleeps is not None else Sleeps()).post(PAYLOAD)


def test_a_2xx_answer_delivers_the_payload_once_as_json():
    with fake_slack(Reply(200)) as slack:
        post(slack)
    (request,) = slack.requests
    assert request["path"] == WEBHOOK_PATH and request["body"] == SENT
    assert request["headers"]["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried_and_the_retry_delivers(status):
    sleeps = Sleeps()
    with fake_slack(Reply(status), Reply(200)) as slack:
        post(slack, sleeps)
    assert len(slack.requests) == 2 and slack.requests[1]["body"] == SENT
    assert sleeps == [0.5]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_stop_after_two_retries_and_name_the_status(status):
    sleeps = Sleeps()
    with fake_slack(Reply(status)) as slack, pytest.raises(SlackDeliveryError, match=f"HTTP {status}"):
        post(slack, sleeps)
    assert len(slack.requests) == 3
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize("status", [400, 403, 404, 410])
def test_a_client_error_is_not_retried(status):
    sleeps = Sleeps()
    with fake_slack(Reply(status)) as slack, pytest.raises(SlackDeliveryError, match=f"HTTP {status}"):
        post(slack, sleeps)
    assert len(slack.requests) == 1 and sleeps == []


def test_a_429_waits_as_long_as_retry_after_asks_then_retries():
    sleeps = Sleeps()
    with fake_slack(Reply(429, {"Retry-After": "3"}), Reply(200)) as slack:
        post(slack, sleeps)
    assert len(slack.requests) == 2 and sleeps == [3.0]


def test_a_long_retry_after_is_capped_at_ten_seconds():
    sleeps = Sleeps()
    with fake_slack(Reply(429, {"Retry-After": "120"}), Reply(200)) as slack:
        post(slack, sleeps)
    assert len(slack.requests) == 2 and sleeps == [10.0]


def test_a_429_without_retry_after_waits_one_second():
    sleeps = Sleeps()
    with fake_slack(Reply(429), Reply(200)) as slack:
        post(slack, sleeps)
    assert sleeps == [1.0]


def test_a_second_429_gives_up_with_the_status():
    sleeps = Sleeps()
    with fake_slack(Reply(429, {"Retry-After": "1"})) as slack, pytest.raises(SlackDeliveryError, match="HTTP 429"):
        post(slack, sleeps)
    assert len(slack.requests) == 2 and sleeps == [1.0]


def test_the_worst_answer_sequence_makes_three_requests_and_waits_eleven_seconds_at_most():
    sleeps = Sleeps()
    worst = (Reply(429, {"Retry-After": "3600"}), Reply(503), Reply(429, {"Retry-After": "3600"}))
    with fake_slack(*worst) as slack, pytest.raises(SlackDeliveryError, match="HTTP 429"):
        post(slack, sleeps)
    assert len(slack.requests) == 3
    assert sleeps == [10.0, 1.0]
    # What the outbox keeps in hand before trying Slack: every request timing out, plus those waits.
    assert webhook(slack.url, sleeps).worst_case_seconds == len(slack.requests) * TIMEOUT_SECONDS + sum(sleeps)


@pytest.mark.parametrize(
    "replies",
    [(Reply(hang=True),), (Reply(429, {"Retry-After": "1"}),)],
    ids=["no answer in time", "rate limited after the retry"],
)
def test_a_slack_not_taking_messages_is_down_so_the_outbox_leaves_it_alone(replies):
    with fake_slack(*replies) as slack, pytest.raises(SlackDown):
        post(slack)


def test_a_refused_connection_is_down():
    with pytest.raises(SlackDown, match="ConnectionRefusedError"):
        webhook(closed_port_url(), Sleeps()).post(PAYLOAD)


@pytest.mark.parametrize("status", [400, 404, 500, 503])
def test_an_answer_that_is_no_rate_limit_is_a_delivery_error_not_down(status):
    with fake_slack(Reply(status)) as slack, pytest.raises(SlackDeliveryError) as raised:
        post(slack)
    assert not isinstance(raised.value, SlackDown)


def test_a_read_timeout_fails_after_exactly_one_request_so_the_event_is_retried():
    sleeps = Sleeps()
    with fake_slack(Reply(hang=True)) as slack:
        with pytest.raises(SlackDeliveryError, match=r"did not answer within 0\.2 s"):
            post(slack, sleeps)
        assert len(slack.wait_for_requests(1)) == 1
    assert sleeps == []


def test_a_refused_connection_is_a_delivery_error():
    sleeps = Sleeps()
    with pytest.raises(SlackDeliveryError, match="Slack unreachable: ConnectionRefusedError"):
        webhook(closed_port_url(), sleeps).post(PAYLOAD)
    assert sleeps == []


# -------------------------------------------------------------------------------------------------
# The webhook URL is a credential: no log record, at any level, and no error message may hold it.


def succeed(url_holder: list[str]) -> None:
    with fake_slack(Reply(200)) as slack:
        url_holder.append(slack.url)
        post(slack)


def fail_with_500(url_holder: list[str]) -> None:
    with fake_slack(Reply(500)) as slack:
        url_holder.append(slack.url)
        post(slack)


def fail_with_429(url_holder: list[str]) -> None:
    with fake_slack(Reply(429, {"Retry-After": "2"})) as slack:
        url_holder.append(slack.url)
        post(slack)


def time_out(url_holder: list[str]) -> None:
    with fake_slack(Reply(hang=True)) as slack:
        url_holder.append(slack.url)
        post(slack)


def be_refused(url_holder: list[str]) -> None:
    url_holder.append(closed_port_url())
    webhook(url_holder[0], Sleeps()).post(PAYLOAD)


@pytest.mark.parametrize("delivery", [succeed, fail_with_500, fail_with_429, time_out, be_refused])
def test_no_log_record_and_no_error_holds_the_webhook_url(delivery: Callable[[list[str]], None], caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    url_holder: list[str] = []
    try:
        delivery(url_holder)
        error = ""
    except SlackDeliveryError as raised:
        error = f"{raised!s} {raised!r}"
    (url,) = url_holder
    assert WEBHOOK_PATH in url  # the secret part: the path
    assert all(WEBHOOK_PATH not in record.getMessage() for record in caplog.records)
    assert WEBHOOK_PATH not in error


def test_a_timeout_is_still_logged_by_the_sdk_without_the_url(caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(SlackDeliveryError):
        time_out([])
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "timed out" in record.getMessage() and WEBHOOK_PATH not in record.getMessage()


def test_any_url_the_sdk_logs_is_blanked():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    passed_on = logging.getLogger(SDK_LOGGER_NAME)  # where the client's own logger hands its lines
    keep = Keep()
    passed_on.addHandler(keep)
    try:
        sdk_logger("the-client-secret").error(
            "Failed to send a request to %s", f"https://hooks.slack.com{WEBHOOK_PATH}"
        )
    finally:
        passed_on.removeHandler(keep)
    assert [r.getMessage() for r in records] == ["Failed to send a request to <url>"]
