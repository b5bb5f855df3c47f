"""Small watchdogs implementing the replay seam, for testing the runner and the mirror's hooks."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ecs_watchdog.replay.seam import SentMessage

BENIGN = {"UserInitiated", "SpotInterruption", "ServiceSchedulerInitiated"}


def failed_stop(envelope: dict[str, Any]) -> str | None:
    """The service of a failed task stop (a stand-in for the classifier), else None."""
    detail = envelope["detail"]
    if envelope["detail-type"] != "ECS Task State Change" or detail["lastStatus"] != "STOPPED":
        return None
    failed = detail["stopCode"] not in BENIGN or "health checks" in detail["stoppedReason"]
    return str(detail["group"].split(":", 1)[1]) if failed else None


class ScaleToZeroWatchdog:
    """After a service's 3rd failed stop: tell people once, then UpdateService(desiredCount=0)."""

    def __init__(self, session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> None:
        self.ecs = session.client("ecs")
        self.clock = clock
        self.dry_run = dry_run
        self.failures: Counter[str] = Counter()
        self.sent: list[SentMessage] = []
        self.intended: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.batches = 0

    def third_failures(self, envelopes: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        """Count failed stops per service; yield each service's 3rd, with its envelope."""
        for envelope in envelopes:
            service = failed_stop(envelope)
            if service is None:
                continue
            self.failures[service] += 1
            if self.failures[service] == 3:
                yield service, envelope

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        self.batches += 1
        assert len(envelopes) <= 10
        for service, envelope in self.third_failures(envelopes):
            self.sent.append(SentMessage("slack", self.clock(), f"{service}: 3 failed tasks, scaling to 0"))
            if self.dry_run:
                self.intended.append(
                    {"service": service, "action": "update_service", "detail": "desiredCount→0", "at": self.clock()}
                )
                continue
            cluster = envelope["detail"]["clusterArn"]
            self.ecs.update_service(cluster=cluster, service=service, desiredCount=0)

    def messages(self) -> list[SentMessage]:
        return self.sent

    def intended_actions(self) -> list[dict[str, Any]]:
        return self.intended


class DisobedientDryRunWatchdog(ScaleToZeroWatchdog):
    """A buggy dry-run watchdog that calls UpdateService anyway: the hooks must refuse it."""

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        for service, envelope in self.third_failures(envelopes):
            try:
                self.ecs.update_service(cluster=envelope["detail"]["clusterArn"], service=service, desiredCount=0)
            except ClientError as exc:
                self.errors.append(exc.response["Error"]["Code"])


class RollbackWatchdog(ScaleToZeroWatchdog):
    """After the 3rd failure: look at the deployments, then StopServiceDeployment(ROLLBACK)."""

    def __init__(self, session: boto3.Session, clock: Callable[[], datetime], dry_run: bool) -> None:
        super().__init__(session, clock, dry_run)
        self.seen_services: list[dict[str, Any]] = []

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        for service, envelope in self.third_failures(envelopes):
            cluster = envelope["detail"]["clusterArn"]
            self.seen_services.append(self.ecs.describe_services(cluster=cluster, services=[service])["services"][0])
            task = self.ecs.describe_tasks(cluster=cluster, tasks=[envelope["detail"]["taskArn"]])["tasks"][0]
            assert task["stoppedReason"] == envelope["detail"]["stoppedReason"]
            listed = self.ecs.list_service_deployments(cluster=cluster, service=service, status=["IN_PROGRESS"])
            arn = listed["serviceDeployments"][0]["serviceDeploymentArn"]
            described = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
            assert described["deploymentCircuitBreaker"]["status"] == "DISABLED"
            self.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
            self.sent.append(SentMessage("slack", self.clock(), f"{service}: rolled back"))
