"""The webhook URL read from Secrets Manager (moto, or Stubber for errors moto does not raise).

A missing or unreadable secret is a configuration fault (SlackUnavailable); a throttled or failing
Secrets Manager is transient (a plain SlackDeliveryError, so the event is retried).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from moto import mock_aws

from ecs_watchdog.aws.slack import SlackDeliveryError, SlackUnavailable, SlackWebhook
from tests.integration.fake_slack import Reply, closed_port_url, fake_slack

SECRET_NAME = "ecs-watchdog/slack-webhook"
PAYLOAD = {"text": "OPENED prod/api"}


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def deliver_with_secret(secretsmanager: Any, secret_string: str) -> list[dict[str, Any]]:
    """Store `secret_string` (with `{url}` replaced by the local endpoint), post once, return what Slack got."""
    with fake_slack(Reply(200)) as slack:
        secretsmanager.create_secret(Name=SECRET_NAME, SecretString=secret_string.replace("{url}", slack.url))
        SlackWebhook.from_secret(secretsmanager, SECRET_NAME, sleep=lambda _: None).post(PAYLOAD)
    return slack.requests


@pytest.mark.parametrize(
    "secret_string",
    ["{url}", "  {url}\n", json.dumps({"webhook_url": "{url}"}), json.dumps({"url": "{url}", "channel": "#ops"})],
    ids=["plain", "padded", "json-webhook_url", "json-url"],
)
def test_the_secret_may_hold_the_url_or_json_naming_it(secretsmanager, secret_string):
    (request,) = deliver_with_secret(secretsmanager, secret_string)
    assert request["body"] == {**PAYLOAD, "unfurl_links": False, "unfurl_media": False}


def test_the_secret_is_read_once_and_cached_across_posts(secretsmanager):
    reads: list[str] = []
    secretsmanager.meta.events.register("before-call.secrets-manager.GetSecretValue", lambda **_: reads.append("read"))
    with fake_slack(Reply(200)) as slack:
        secretsmanager.create_secret(Name=SECRET_NAME, SecretString=slack.url)
        webhook = SlackWebhook.from_secret(secretsmanager, SECRET_NAME)
        for _ in range(3):
            webhook.post(PAYLOAD)
    assert len(slack.requests) == 3 and reads == ["read"]


def test_a_missing_secret_makes_slack_unavailable_and_names_the_secret(secretsmanager):
    webhook = SlackWebhook.from_secret(secretsmanager, SECRET_NAME)
    with pytest.raises(SlackUnavailable, match=f"'{SECRET_NAME}' cannot be read \\(ResourceNotFoundException\\)"):
        webhook.post(PAYLOAD)


def test_a_secret_marked_for_deletion_makes_slack_unavailable(secretsmanager):
    secretsmanager.create_secret(Name=SECRET_NAME, SecretString="https://hooks.slack.com/services/T/B/x")
    secretsmanager.delete_secret(SecretId=SECRET_NAME)
    with pytest.raises(SlackUnavailable, match="InvalidRequestException"):
        SlackWebhook.from_secret(secretsmanager, SECRET_NAME).post(PAYLOAD)


@pytest.mark.parametrize(
    "secret_string",
    ["hunter2-not-a-url", json.dumps({"token": "hunter2-not-a-url"}), "{hunter2-not-a-url", json.dumps(["hunter2"])],
    ids=["text", "json-without-url", "broken-json", "json-list"],
)
def test_a_secret_without_a_url_makes_slack_unavailable_without_showing_the_value(secretsmanager, secret_string):
    secretsmanager.create_secret(Name=SECRET_NAME, SecretString=secret_string)
    with pytest.raises(SlackUnavailable) as raised:
        SlackWebhook.from_secret(secretsmanager, SECRET_NAME).post(PAYLOAD)
    assert SECRET_NAME in str(raised.value) and "hunter2" not in str(raised.value)


def test_a_binary_secret_makes_slack_unavailable(secretsmanager):
    secretsmanager.create_secret(Name=SECRET_NAME, SecretBinary=b"https://hooks.slack.com/services/T/B/x")
    with pytest.raises(SlackUnavailable, match="binary"):
        SlackWebhook.from_secret(secretsmanager, SECRET_NAME).post(PAYLOAD)


def test_fixing_a_missing_secret_takes_effect_on_the_next_post(secretsmanager):
    webhook = SlackWebhook.from_secret(secretsmanager, SECRET_NAME)
    with pytest.raises(SlackUnavailable):
        webhook.post(PAYLOAD)
    with fake_slack(Reply(200)) as slack:
        secretsmanager.create_secret(Name=SECRET_NAME, SecretString=slack.url)
        webhook.post(PAYLOAD)  # failures are not cached
    assert len(slack.requests) == 1


# -------------------------------------------------------------------------------------------------
# Errors moto does not raise: botocore's Stubber, with the real Secrets Manager model.


def stubbed_failure(code: str, http_status: int) -> SlackWebhook:
    client = boto3.client("secretsmanager", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_secret_value",
        service_error_code=code,
        http_status_code=http_status,
        expected_params={"SecretId": SECRET_NAME},
    )
    stubber.activate()
    return SlackWebhook.from_secret(client, SECRET_NAME)


@pytest.mark.parametrize(("code", "http_status"), [("AccessDeniedException", 400), ("DecryptionFailure", 400)])
def test_a_forbidden_or_undecryptable_secret_makes_slack_unavailable(code, http_status):
    with pytest.raises(SlackUnavailable, match=f"'{SECRET_NAME}' cannot be read \\({code}\\)"):
        stubbed_failure(code, http_status).post(PAYLOAD)


@pytest.mark.parametrize(("code", "http_status"), [("ThrottlingException", 400), ("InternalServiceError", 500)])
def test_a_throttled_or_failing_secrets_manager_is_a_transient_delivery_error(code, http_status):
    with pytest.raises(SlackDeliveryError, match=f"could not be read just now \\({code}\\)") as raised:
        stubbed_failure(code, http_status).post(PAYLOAD)
    assert not isinstance(raised.value, SlackUnavailable)


def test_an_unreachable_secrets_manager_is_a_transient_delivery_error():
    endpoint = closed_port_url().split("/services/")[0]
    client = boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(SlackDeliveryError, match="EndpointConnectionError") as raised:
        SlackWebhook.from_secret(client, SECRET_NAME).post(PAYLOAD)
    assert not isinstance(raised.value, SlackUnavailable)
