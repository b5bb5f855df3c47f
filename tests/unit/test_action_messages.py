"""What a message says about containment follows the record's outcome: nothing is called done unless it
was (issue 22: a failed StopServiceDeployment was announced under "Action taken")."""

from __future__ import annotations

import json

import pytest

from ecs_watchdog.announce.email import render_transition_sns
from ecs_watchdog.announce.slack_blocks import render_transition_slack
from ecs_watchdog.contain.decision import decide_containment
from ecs_watchdog.contain.models import ActionRecord, ContainmentPolicy, Mode, Outcome, ServiceTagAction
from ecs_watchdog.contain.step import action_summary
from ecs_watchdog.incidents.model import IncidentKind, TransitionKind
from tests.unit.announce_fixtures import REF, transition, with_containment
from tests.unit.containment_builders import NOW, deploying, facts, incident


def _record(outcome: Outcome, *, error: str | None = None, mode: Mode = Mode.ENFORCE) -> ActionRecord:
    service = deploying(old_running=2)
    action = decide_containment(
        incident(),
        service,
        last_known_good=service.deployments[1].task_definition,
        policy=ContainmentPolicy(mode=mode),
        service_tag_action=ServiceTagAction.AUTO,
        guards=facts(),
    )
    made = action.calls if outcome is Outcome.DONE else ()
    return ActionRecord(action=action, outcome=outcome, at=NOW, calls_made=made, error=error)


def _rendered(record: ActionRecord) -> tuple[str, str]:
    opened = with_containment(
        transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED), action_summary(record)
    )
    slack = json.dumps(render_transition_slack(opened, REF, None))
    sns = render_transition_sns(opened, REF).body
    return slack, sns


@pytest.mark.parametrize(
    ("outcome", "error", "says"),
    [
        (Outcome.FAILED, "ClientError('ThrottlingException: Rate exceeded')", "FAILED"),
        (Outcome.FAILED, "ClientError('AccessDeniedException: not authorized')", "AccessDeniedException"),
        (Outcome.REFUSED, "StopServiceDeployment refused: ConflictException: in progress", "REFUSED"),
        (Outcome.UNKNOWN, "StopServiceDeployment: no answer (ReadTimeoutError)", "UNKNOWN"),
    ],
)
def test_an_action_that_did_not_happen_is_never_announced_as_taken(outcome: Outcome, error: str, says: str) -> None:
    slack, sns = _rendered(_record(outcome, error=error))
    for text in (slack, sns):
        assert says in text
        assert "Action taken" not in text
        assert "Did: " not in text
        assert "after: api:5" not in text  # the expected after-state is not claimed


def test_an_action_that_was_made_says_what_changed() -> None:
    slack, sns = _rendered(_record(Outcome.DONE))
    assert "Action taken" in slack
    for text in (slack, sns):
        assert "Did: rollback deployment" in text
        assert "after: api:5" in text


def test_dry_run_says_no_call_was_made() -> None:
    slack, sns = _rendered(_record(Outcome.DRY_RUN, mode=Mode.DRY_RUN))
    for text in (slack, sns):
        assert "dry-run" in text and "no call made" in text
        assert "Did: " not in text
