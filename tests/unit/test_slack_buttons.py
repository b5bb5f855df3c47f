"""The living message's buttons (Block Kit `actions` block of `button` elements, each with an `action_id` and
a `value`: docs.slack.dev reference/block-kit/block-elements/button-element): bot mode only, the approve
button only for an open proposal, Undo only after an action that took effect, who answered named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ecs_watchdog.announce.slack_blocks import MAX_BLOCKS, button_block, render_living_message, render_transition_slack
from ecs_watchdog.approvals.click import ButtonKind, ButtonValue
from ecs_watchdog.incidents.model import IncidentKind, IncidentStatus, Transition, TransitionKind
from tests.unit.announce_fixtures import AT, LAST_KNOWN_GOOD, REF, transition

PROPOSED_ACTION = {
    "kind": "rollback_deployment",
    "mode": "approve",
    "outcome": "proposed",
    "dry_run": False,
    "calls": [{"service": "ecs", "operation": "StopServiceDeployment", "params": {"stopType": "ROLLBACK"}}],
    "reason": "stop the failing deployment and roll back to api:5",
    "before": {"task_definition": "api:6", "desired_count": 2},
    "after": {"task_definition": LAST_KNOWN_GOOD, "desired_count": 2},
}


def proposed(**incident: Any) -> Transition:
    opened = transition(IncidentKind.FAILING_DEPLOYMENT, TransitionKind.OPENED)
    changed = opened.incident.model_copy(update={"proposal": {"id": "p123", "taken_by": None}, **incident})
    return opened.model_copy(update={"incident": changed, "action": PROPOSED_ACTION})


def buttons(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (actions,) = [b for b in payload["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e for e in actions["elements"]}


def test_an_open_proposal_gets_a_primary_approve_button_that_names_the_rollback_and_its_proposal():
    shown = buttons(render_living_message(proposed(), proposed(), REF))
    approve = shown[ButtonKind.APPROVE.action_id]
    assert approve["type"] == "button" and approve["style"] == "primary"
    assert approve["text"] == {"type": "plain_text", "text": "Roll back to api:5", "emoji": True}
    value = ButtonValue.decode(approve["value"])
    assert value is not None and value.proposal == "p123" and value.service == REF.key
    assert list(shown) == [
        "watchdog_approve",
        "watchdog_acknowledge",
        "watchdog_silence_1h",
        "watchdog_silence_24h",
    ]


def test_a_webhook_message_has_no_buttons():
    payload = render_transition_slack(proposed(), REF)
    assert all(b["type"] != "actions" for b in payload["blocks"])


def test_a_taken_proposal_has_no_approve_button_and_an_action_that_took_effect_can_be_undone():
    incident = {"proposal": {"id": "p123", "taken_by": "alice"}, "acted": {"outcome": "done"}}
    shown = buttons(render_living_message(proposed(), proposed(**incident), REF))
    assert "watchdog_approve" not in shown and "watchdog_undo" in shown


def test_acknowledged_and_silenced_name_the_person_and_acknowledge_is_not_offered_again():
    answered = proposed(
        acknowledged={"user_id": "U0BOB0002", "user_name": "bob", "at": AT.isoformat()},
        silenced_until=AT + timedelta(hours=1),
        silenced_by={"user_id": "U0ALICE01", "user_name": "alice", "at": AT.isoformat()},
    )
    payload = render_living_message(answered, answered, REF)
    text = " ".join(e.get("text", "") for b in payload["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "Acknowledged by <@U0BOB0002>" in text and "Silenced by <@U0ALICE01> until" in text
    assert "watchdog_acknowledge" not in buttons(payload)


def test_a_resolved_incident_has_no_buttons_and_the_message_stays_within_slacks_block_limit():
    resolved = proposed(status=IncidentStatus.RESOLVED)
    assert button_block(resolved) is None
    assert len(render_living_message(proposed(), proposed(), REF)["blocks"]) <= MAX_BLOCKS
