"""The diagnose function's answer to a console event (no boto3: the look-ups and channels are injected).

Nothing raises: bad input and a task that cannot be found are `{"error": ...}`; a channel that fails
to post is named in `not_posted` next to the full report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecs_watchdog.announce.channels import SlackPoster, SnsPublisher
from ecs_watchdog.diagnose.messages import diagnosis_slack_payload, diagnosis_sns_message
from ecs_watchdog.diagnose.model import Diagnosis
from ecs_watchdog.diagnose.report import report_json
from ecs_watchdog.diagnose.request import AccountUnavailable, InvalidRequest, TaskLookupError, parse_request


class DiagnosisChannel(Protocol):
    """Somewhere a diagnosis report can be posted."""

    name: str

    def post(self, diagnosis: Diagnosis, task_arn: str | None) -> None: ...


@dataclass
class SnsDiagnosisChannel:
    """The alerts topic: the text report by email and to any other subscriber."""

    topic: SnsPublisher
    runbook_base_url: str | None = None
    name: str = "sns"

    def post(self, diagnosis: Diagnosis, task_arn: str | None) -> None:
        message = diagnosis_sns_message(diagnosis, task_arn=task_arn, runbook_base_url=self.runbook_base_url)
        self.topic.publish(message, {"kind": "diagnosis", "service": f"{diagnosis.cluster}/{diagnosis.service}"})


@dataclass
class SlackDiagnosisChannel:
    """The Slack webhook (its URL stays in its secret: the poster reads it)."""

    poster: SlackPoster
    runbook_base_url: str | None = None
    name: str = "slack"

    def post(self, diagnosis: Diagnosis, task_arn: str | None) -> None:
        self.poster.post(diagnosis_slack_payload(diagnosis, task_arn=task_arn, runbook_base_url=self.runbook_base_url))


Diagnose = Callable[[str, str], Diagnosis]  # (cluster, service) -> diagnosis
ServiceOfTask = Callable[[str, str], str]  # (cluster, task) -> service name, or TaskLookupError
# A hub's member account -> its look-ups through the account's read role, or AccountUnavailable.
MemberLookups = Callable[[str], tuple[Diagnose, ServiceOfTask]]


@dataclass
class DiagnoseConsole:
    """Answers `{"cluster", "service"}` or `{"taskArn"}` (and `"post": true`) with the full JSON report."""

    diagnose: Diagnose
    service_of_task: ServiceOfTask
    channels: Sequence[DiagnosisChannel] = field(default_factory=tuple)
    runbook_base_url: str | None = None
    home_account: str | None = None  # the account `diagnose` looks into; another needs `members`
    members: MemberLookups | None = None  # organization mode (a hub): member accounts, through their roles

    def answer(self, event: Any) -> dict[str, Any]:
        """The report (docs/diagnose.md), or `{"error": ...}`; never raises for a bad event or a missing task."""
        try:
            request = parse_request(event)
        except InvalidRequest as error:
            return {"error": str(error)}
        cluster, service = request.cluster, request.service
        diagnose, service_of_task = self.diagnose, self.service_of_task
        if request.account is not None and request.account != self.home_account:
            if self.members is None:
                return {
                    "error": f"account {request.account}: this diagnose function is not a hub's (docs/organization.md)"
                }
            try:
                diagnose, service_of_task = self.members(request.account)
            except AccountUnavailable as error:
                return {"error": str(error)}
        if request.task_arn is not None:
            cluster = request.task_cluster
            try:
                owner = service_of_task(cluster, request.task_arn)
            except TaskLookupError as error:
                return {"error": str(error)}
            if service is not None and service != owner:
                return {"error": f"task {request.task_arn} belongs to service {owner}, not {service}"}
            service = owner
        assert cluster is not None and service is not None  # the request's validator guarantees it
        diagnosis = diagnose(cluster, service)
        report = report_json(diagnosis, task_arn=request.task_arn, runbook_base_url=self.runbook_base_url)
        if request.post:
            report["posted"], report["not_posted"] = self._post(diagnosis, request.task_arn)
        return report

    def _post(self, diagnosis: Diagnosis, task_arn: str | None) -> tuple[list[str], dict[str, str]]:
        posted: list[str] = []
        not_posted: dict[str, str] = {}
        if not self.channels:
            not_posted["any"] = "no channel is configured (ALERTS_TOPIC_ARN, SLACK_SECRET_NAME)"
        for channel in self.channels:
            try:
                channel.post(diagnosis, task_arn)
            except Exception as error:  # one channel failing must not stop the other, nor the report
                not_posted[channel.name] = f"{type(error).__name__}: {error}"
            else:
                posted.append(channel.name)
        return posted, not_posted
