"""A local AWS account for the watchdog: moto in-process plus a Slack webhook on 127.0.0.1.

It creates what the deployed stack would (alerts topic, Slack secret, state table) and records what
the watchdog sends, so the demo, the simulator and the tests see the exact messages people would get.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from ecs_watchdog.replay.offline_aws import offline_aws
from ecs_watchdog.replay.offline_iam import answer_simulations
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from ecs_watchdog.wiring.settings import Settings

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
SLACK_SECRET_NAME = "ecs-watchdog/slack-webhook"
STATE_TABLE_NAME = "ecs-watchdog-state"
AUDIT_CAPTURE_QUEUE = "ecs-watchdog-audit-capture"


def audit_events(session: boto3.Session) -> list[dict[str, Any]]:
    """The watchdog's audit events (EventBridge `ECS Watchdog Action`) delivered so far, oldest first."""
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName=AUDIT_CAPTURE_QUEUE)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


@dataclass
class SlackCapture:
    """A local stand-in for Slack's webhook endpoint: records payloads, answers `status`."""

    status: int = 200
    payloads: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/services/T000LOCAL/B000LOCAL/demo"

    def start(self) -> None:
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if capture.status == 200:
                    capture.payloads.append(json.loads(body))
                self.send_response(capture.status)
                self.end_headers()
                self.wfile.write(b"ok" if capture.status == 200 else b"error")

            def log_message(self, *args: Any) -> None:  # keep test and demo output clean
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class LocalAccount:
    """Handles to the moto resources and the Slack capture of one sandbox."""

    session: boto3.Session
    settings: Settings
    slack: SlackCapture
    sns_capture_queue_url: str
    service_deployments: ServiceDeploymentCalls | None = None

    def parked(self) -> list[dict[str, Any]]:
        """Records the watchdog parked on the events DLQ: body and message attributes, oldest first."""
        sqs = self.session.client("sqs")
        url = self.settings.parked_records_queue_url
        found: list[dict[str, Any]] = []
        while url and (
            batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
                "Messages"
            )
        ):
            for message in batch:
                attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
                found.append({"body": message["Body"], "attributes": attributes})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def sns_messages(self) -> list[dict[str, Any]]:
        """Every SNS notification delivered so far (Subject, Message, MessageAttributes), oldest first."""
        sqs = self.session.client("sqs")
        messages: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.sns_capture_queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.sns_capture_queue_url, ReceiptHandle=message["ReceiptHandle"])


FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def provision(session: boto3.Session, slack_url: str) -> tuple[Settings, str]:
    """Create the stack's resources in the (moto) account behind `session`: the alerts topic with a
    queue subscribed to capture what email subscribers get, the Slack secret and the state table.
    Returns the function's settings and the capture queue's URL."""
    sns, sqs = session.client("sns"), session.client("sqs")
    topic_arn = sns.create_topic(Name="ecs-watchdog-alerts")["TopicArn"]
    capture_url = sqs.create_queue(QueueName="alerts-email-capture")["QueueUrl"]
    capture_arn = sqs.get_queue_attributes(QueueUrl=capture_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=capture_arn)
    session.client("secretsmanager").create_secret(
        Name=SLACK_SECRET_NAME, SecretString=json.dumps({"webhook_url": slack_url})
    )
    session.client("dynamodb").create_table(
        TableName=STATE_TABLE_NAME,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dead_letter_url = sqs.create_queue(QueueName="ecs-watchdog-events-dlq")["QueueUrl"]
    # The watchdog's audit events (`source: ecs-watchdog`), captured as a subscriber would see them.
    audit_url = sqs.create_queue(QueueName=AUDIT_CAPTURE_QUEUE)["QueueUrl"]
    audit_arn = sqs.get_queue_attributes(QueueUrl=audit_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = session.client("events")
    events.put_rule(Name="ecs-watchdog-audit-capture", EventPattern=json.dumps({"source": ["ecs-watchdog"]}))
    events.put_targets(Rule="ecs-watchdog-audit-capture", Targets=[{"Id": "capture", "Arn": audit_arn}])
    settings = Settings(
        topic_arn=topic_arn,
        slack_secret_name=SLACK_SECRET_NAME,
        state_table_name=STATE_TABLE_NAME,
        parked_records_queue_url=dead_letter_url,
    )
    return settings, capture_url


@contextmanager
def local_account(slack_status: int = 200) -> Iterator[LocalAccount]:
    """Start moto and a local Slack endpoint, create the stack's resources, and yield handles.

    Credentials are fake and every AWS call stays in this process: nothing reaches AWS.
    """
    slack = SlackCapture(status=slack_status)
    slack.start()
    try:
        with offline_aws(FAKE_CREDENTIALS):
            session = boto3.Session(region_name=REGION)
            settings, capture_url = provision(session, slack.url)
            deployments = ServiceDeploymentCalls(ACCOUNT, REGION)
            deployments.install(session)
            answer_simulations(session)
            yield LocalAccount(
                session=session,
                settings=settings,
                slack=slack,
                sns_capture_queue_url=capture_url,
                service_deployments=deployments,
            )
    finally:
        slack.stop()
