"""Seed incident 002 ("image tag never pushed") replayed through the real Lambda handler.

The events are the ones ECS would have sent while `agricultural-core` tried to deploy task
definition revision 6, whose image tag v3.3.2 was never pushed to ECR (../shared/seeds/002_*.txt).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, envelope_bodies, sqs_batch
from ecs_watchdog.replay.sandbox import ACCOUNT, REGION, local_account
from ecs_watchdog.wiring import build_pipeline

CLUSTER = "ava-olo-production"
SERVICE = "agricultural-core"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/agricultural-core:v3.3.2"
PULL_ERROR = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    f"{IMAGE}: {IMAGE}: not found"
)


def _stopped_task(
    n: int, at: datetime, *, revision: int, stop_code: str, reason: str, container: dict[str, Any]
) -> dict[str, Any]:
    task_arn = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{n:032x}"
    stamp = at.isoformat().replace("+00:00", "Z")
    return {
        "version": "0",
        "id": f"5e1d4b7c-0000-4000-8000-{n:012d}",
        "detail-type": "ECS Task State Change",
        "source": "aws.ecs",
        "account": ACCOUNT,
        "time": stamp,
        "region": REGION,
        "resources": [task_arn],
        "detail": {
            "clusterArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{CLUSTER}",
            "containers": [
                {
                    "containerArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:container/{CLUSTER}/{n:032x}/app",
                    "lastStatus": "STOPPED",
                    "name": "app",
                    "taskArn": task_arn,
                    **container,
                }
            ],
            "createdAt": stamp,
            "desiredStatus": "STOPPED",
            "group": f"service:{SERVICE}",
            "launchType": "FARGATE",
            "lastStatus": "STOPPED",
            "startedBy": "ecs-svc/4263798219871836001",
            "stopCode": stop_code,
            "stoppedAt": stamp,
            "stoppedReason": reason,
            "stoppingAt": stamp,
            "taskArn": task_arn,
            "taskDefinitionArn": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/ava-agricultural-task:{revision}",
            "updatedAt": stamp,
            "version": 3,
        },
    }


def seed_002_events(start: datetime) -> list[dict[str, Any]]:
    """Two failed launches of revision 6, and one benign stop: a revision-5 task scaled in."""
    failed = [
        _stopped_task(
            n,
            start + timedelta(minutes=13 * n),
            revision=6,
            stop_code="TaskFailedToStart",
            reason=PULL_ERROR,
            container={"image": IMAGE, "reason": PULL_ERROR},
        )
        for n in (1, 2)
    ]
    benign = _stopped_task(
        3,
        start + timedelta(minutes=30),
        revision=5,
        stop_code="ServiceSchedulerInitiated",
        reason="Scaling activity initiated by (deployment ecs-svc/4263798219871836001)",
        container={"image": IMAGE.replace("v3.3.2", "v3.3.1"), "exitCode": 143},
    )
    return [*failed, benign]


def run(out: TextIO) -> int:
    """Replay the seed through the handler and print the finding and the exact messages sent."""
    with local_account() as account:
        ecs_events.install_pipeline(build_pipeline(account.settings, account.session))
        bodies = [
            *envelope_bodies(seed_002_events(datetime(2025, 7, 21, 7, 50, tzinfo=UTC))),
            '{"detail-type": "ECS Task State Change", "source": "aws.ecs", "detail": ',  # cut short in transit
        ]
        response = ecs_events.handler(sqs_batch(bodies), LocalLambdaContext())
        slack, sns = account.slack.payloads, account.sns_messages()

    out.write("== Seed 002: agricultural-core deploys an image tag that was never pushed ==\n")
    out.write(
        f"SQS batch of {len(bodies)} records: 2 failed launches, 1 scale-in of the old revision, "
        "1 record cut short in transit.\n\n"
    )
    if slack:
        out.write("-- Finding (first failed launch) --\n")
        out.write(slack[0]["text"] + "\n\n")
        out.write("-- Slack webhook payload (exactly as posted) --\n")
        out.write(json.dumps(slack[0], indent=2) + "\n\n")
    if sns:
        out.write("-- SNS notification (exactly as delivered to subscribers) --\n")
        out.write(f"Subject: {sns[0]['Subject']}\n{sns[0]['Message']}\n\n")
    failures = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    out.write(
        f"-- Batch result --\nmessages to Slack: {len(slack)}, to SNS: {len(sns)} "
        f"(one per failed launch; the benign scale-in sent nothing)\n"
    )
    out.write(f"batch item failures (retried by SQS, then dead-lettered): {failures}\n")
    return 0 if slack and sns and len(failures) == 1 else 1
