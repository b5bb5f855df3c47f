"""The diagnose function's answers to console events: requests, task look-ups, posting; never an exception."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ecs_watchdog.announce.render import SnsMessage
from ecs_watchdog.diagnose.console import DiagnoseConsole, SlackDiagnosisChannel, SnsDiagnosisChannel
from ecs_watchdog.diagnose.model import Diagnosis, ProbeRun, failed, passed
from ecs_watchdog.diagnose.request import TaskLookupError, cluster_of_task_arn, parse_request, service_of_group

TASK = "arn:aws:ecs:us-east-1:123456789012:task/pairva-cluster/0123456789abcdef"


def _diagnose(cluster: str, service: str) -> Diagnosis:
    return Diagnosis(
        cluster=cluster,
        service=service,
        task_definition_arn=None,
        runs=(
            ProbeRun(result=failed("image", "pairva-backend:1.0.1 is not in the repository")),
            ProbeRun(result=passed("logging", "every awslogs group exists or is created")),
        ),
    )


def _tasks(cluster: str, task: str) -> str:
    if task == TASK and cluster == "pairva-cluster":
        return "pairva-backend"
    raise TaskLookupError(f"ECS does not know task {task} in cluster {cluster} (MISSING)")


@dataclass
class RecordingTopic:
    published: list[SnsMessage] = field(default_factory=list)

    def publish(self, message: SnsMessage, attributes: dict[str, str] | None = None) -> str:
        self.published.append(message)
        return "message-1"


class BrokenSlack:
    def post(self, payload: dict) -> None:
        raise RuntimeError("Slack answered HTTP 404")


def _console(*channels) -> DiagnoseConsole:
    return DiagnoseConsole(diagnose=_diagnose, service_of_task=_tasks, channels=channels)


def test_cluster_and_service_return_the_full_report():
    answer = _console().answer({"cluster": "pairva-cluster", "service": "pairva-backend"})
    assert (answer["cluster"], answer["service"], answer["verdict"]) == ("pairva-cluster", "pairva-backend", "fail")
    assert [p["name"] for p in answer["probes"]] == ["image", "logging"]
    assert "posted" not in answer and "task" not in answer


def test_a_task_arn_alone_finds_its_cluster_and_service():
    answer = _console().answer({"taskArn": TASK})
    assert (answer["cluster"], answer["service"], answer["task"]) == ("pairva-cluster", "pairva-backend", TASK)


def test_a_task_that_cannot_be_found_is_an_error_answer():
    assert _console().answer({"taskArn": TASK.replace("0123", "9999")}) == {
        "error": f"ECS does not know task {TASK.replace('0123', '9999')} in cluster pairva-cluster (MISSING)"
    }


def test_a_task_of_another_service_than_the_one_named_is_an_error_answer():
    answer = _console().answer({"taskArn": TASK, "service": "pairva-frontend"})
    assert answer == {"error": f"task {TASK} belongs to service pairva-backend, not pairva-frontend"}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({}, "give cluster and service, or taskArn"),
        ({"cluster": "c"}, "give cluster and service, or taskArn"),
        ({"cluster": "c", "service": ""}, "service: String should have at least 1 character"),
        ({"cluster": "c", "service": "s", "post": "yes"}, "post: Input should be a valid boolean"),
        ({"cluster": "c", "service": "s", "read_secret_values": True}, "read_secret_values: Extra inputs"),
        ("pairva-backend", "expected a JSON object"),
        (None, "expected a JSON object"),
    ],
)
def test_bad_input_is_an_error_answer_naming_what_is_wrong(event, expected):
    answer = _console().answer(event)
    assert list(answer) == ["error"]
    assert expected in answer["error"]


def test_post_sends_to_every_channel_and_names_the_one_that_failed():
    topic = RecordingTopic()
    console = _console(SnsDiagnosisChannel(topic), SlackDiagnosisChannel(BrokenSlack()))
    answer = console.answer({"cluster": "pairva-cluster", "service": "pairva-backend", "post": True})
    assert answer["posted"] == ["sns"]
    assert answer["not_posted"] == {"slack": "RuntimeError: Slack answered HTTP 404"}
    (message,) = topic.published
    assert message.subject.startswith("[ecs-watchdog] diagnosis FAIL: pairva-backend in pairva-cluster")
    assert answer["verdict"] == "fail"  # the report is whole although a channel failed


def test_post_without_any_channel_says_so():
    answer = _console().answer({"cluster": "pairva-cluster", "service": "pairva-backend", "post": True})
    assert answer["posted"] == [] and "no channel is configured" in answer["not_posted"]["any"]


def test_task_arns_and_groups_name_clusters_and_services():
    assert cluster_of_task_arn(TASK) == "pairva-cluster"
    assert cluster_of_task_arn("arn:aws:ecs:us-east-1:123456789012:task/0123456789abcdef") is None
    assert cluster_of_task_arn("0123456789abcdef") is None
    assert service_of_group("service:pairva-backend") == "pairva-backend"
    assert service_of_group("family:pairva-backend") is None and service_of_group(None) is None
    assert parse_request({"taskArn": "0123456789abcdef"}).task_cluster == "default"
    assert parse_request({"taskArn": "0123", "cluster": "other"}).task_cluster == "other"
