"""Messages people read: Slack blocks and SNS text name the service, the incident, its cause and what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from ecs_watchdog.announce.render import render_transition_slack, render_transition_sns, sns_subject
from ecs_watchdog.incidents.model import Explanation, Incident, IncidentKind, Transition, TransitionKind
from ecs_watchdog.incidents.service_ref import ServiceRef

REF = ServiceRef(account="123456789012", region="us-east-1", cluster="prod", name="api")
AT = datetime(2025, 7, 21, 8, 3, tzinfo=UTC)
INCIDENT = Incident(
    id="api-20250721T080300Z-1",
    service=REF.key,
    kind=IncidentKind.FAILING_DEPLOYMENT,
    category="image",
    task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/api:6",
    deployment_id="ecs-svc/1",
    last_known_good="arn:aws:ecs:us-east-1:123456789012:task-definition/api:5",
    opened_at=AT,
    updated_at=AT,
    failures=3,
    categories={"image": 3},
)
OPENED = Transition(
    id="api-20250721T080300Z-1/2-opened",
    kind=TransitionKind.OPENED,
    incident=INCIDENT,
    at=AT,
    summary="3 failures of api:6, which has never been healthy (threshold 3)",
    explanation=Explanation(
        evidence=["stopCode: TaskFailedToStart", "stoppedReason: CannotPullContainerError: ... not found"],
        next_steps=["Check the tag exists in the repository"],
        runbook="docs/runbooks/image.md",
    ),
)


def test_slack_message_names_service_incident_revision_and_last_known_good():
    payload = render_transition_slack(OPENED, REF, runbook_base_url="https://git.example.org/watchdog/blob/main")
    text = str(payload)
    assert payload["text"].startswith(":rotating_light: OPENED prod/api: Failing deployment (image)")
    for expected in (
        "api:6",
        "api:5",
        "ecs-svc/1",
        "image x3",
        "CannotPullContainerError",
        "https://git.example.org/watchdog/blob/main/docs/runbooks/image.md",
    ):
        assert expected in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in payload["blocks"])


def test_sns_message_has_a_valid_subject_and_the_next_steps():
    message = render_transition_sns(OPENED, REF)
    assert message.subject == "[ecs-watchdog] OPENED prod/api: Failing deployment (image)"
    assert "Last known good: api:5" in message.body
    assert "Next steps:\n  1. Check the tag exists in the repository" in message.body
    assert "Runbook: docs/runbooks/image.md" in message.body


def test_a_resolution_uses_its_own_icon_and_says_why():
    resolved = OPENED.model_copy(
        update={
            "kind": TransitionKind.RESOLVED,
            "summary": "deployment completed (api:5)",
            "explanation": None,
        }
    )
    payload = render_transition_slack(resolved, REF)
    assert payload["text"].startswith(":white_check_mark: RESOLVED prod/api")
    assert "Next steps" not in str(payload)


def test_unknown_causes_are_flagged_as_not_for_automatic_containment():
    unknown = OPENED.model_copy(update={"incident": INCIDENT.model_copy(update={"containment_eligible": False})})
    assert "not automatic" in render_transition_sns(unknown, REF).body


def test_sns_subject_is_made_valid_for_sns():
    subject = sns_subject("prod/api — a very long title\n" + "x" * 200)
    assert len(subject) < 100 and subject.isascii() and "\n" not in subject
