"""Messages people read: Slack blocks and SNS text carry the service, the cause and what to do."""

from __future__ import annotations

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.models import ContainerStop, Finding, Stop
from ecs_watchdog.notify.render import render_slack, render_sns, sns_subject

STOP = Stop(
    task_arn="arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef",
    region="us-east-1",
    account="123456789012",
    cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    group="service:api",
    task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/api:6",
    stop_code="EssentialContainerExited",
    stopped_reason="Essential container in task exited",
    containers=(ContainerStop(name="api", exit_code=1),),
)
FINDING = Finding(stop=STOP, classification=classify_stop(STOP))


def test_slack_message_names_service_category_evidence_and_runbook():
    payload = render_slack(FINDING, runbook_base_url="https://git.example.org/ecs-watchdog/blob/main")
    text = str(payload)
    assert payload["text"].startswith(":rotating_light: prod/api: Essential container exited")
    assert "`container_exit`" in text and "api:6" in text
    assert "container api exitCode: 1" in text
    assert "https://git.example.org/ecs-watchdog/blob/main/docs/runbooks/container_exit.md" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in payload["blocks"])


def test_sns_message_has_a_short_ascii_subject_and_the_next_steps():
    message = render_sns(FINDING)
    assert message.subject == "[ecs-watchdog] prod/api: Essential container exited"
    assert "Next steps:\n  1. Read the container's last log lines" in message.body
    assert "Runbook: docs/runbooks/container_exit.md" in message.body


def test_sns_subject_is_made_valid_for_sns():
    subject = sns_subject("prod/api — a very long title\n" + "x" * 200)
    assert len(subject) < 100 and subject.isascii() and "\n" not in subject
