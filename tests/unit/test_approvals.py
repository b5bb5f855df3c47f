"""Approve mode and the click verdicts, pure: the decision proposes what enforce would make, a proposal
expires when the picture changes, only allowed people may press, and acknowledge/silence are recorded once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecs_watchdog.announce.cadence import due_update
from ecs_watchdog.approvals import marks
from ecs_watchdog.approvals.expiry import expired
from ecs_watchdog.approvals.people import allowed_users, refusal
from ecs_watchdog.approvals.proposal import Proposal, draw, stored
from ecs_watchdog.contain.claims import claim, needs_containment, proposal_open
from ecs_watchdog.contain.decision import decide_containment, effective_mode
from ecs_watchdog.contain.models import ActionKind, ContainmentPolicy, Mode, ServiceTagAction
from ecs_watchdog.incidents.model import IncidentStatus, ServiceState
from tests.unit.containment_builders import NOW, deploying, deployment, facts, incident, td, view


def decided(mode: Mode, tag: ServiceTagAction = ServiceTagAction.AUTO, **guards: object):
    return decide_containment(
        incident(),
        deploying(old_running=2),
        last_known_good=td(5),
        policy=ContainmentPolicy(mode=mode),
        service_tag_action=tag,
        guards=facts(**guards),
    )


def a_proposal(**changes: object) -> Proposal:
    action = decided(Mode.APPROVE)
    drawn = draw(action, deploying(old_running=2), NOW, timedelta(minutes=60))
    return drawn.model_copy(update=changes)


def test_approve_mode_decides_exactly_as_enforce_and_only_the_mode_differs():
    approve, enforce = decided(Mode.APPROVE), decided(Mode.ENFORCE)
    assert approve.mode is Mode.APPROVE and not approve.acts
    assert approve.model_copy(update={"mode": Mode.ENFORCE}) == enforce
    assert approve.kind is ActionKind.ROLLBACK_DEPLOYMENT


def test_a_service_tagged_approve_lowers_enforce_to_approve_and_never_raises_dry_run():
    assert decided(Mode.ENFORCE, ServiceTagAction.APPROVE).mode is Mode.APPROVE
    assert effective_mode(Mode.DRY_RUN, ServiceTagAction.APPROVE, kill_switch=False) is Mode.DRY_RUN
    assert ServiceTagAction.from_tags({"ecs-watchdog:action": "approve"}) == (ServiceTagAction.APPROVE, None)


def test_the_kill_switch_turns_a_proposal_into_a_dry_run_report():
    assert decided(Mode.APPROVE, kill_switch=True).mode is Mode.DRY_RUN


def test_mode_ranks_put_approve_between_dry_run_and_enforce():
    assert Mode.DRY_RUN.rank < Mode.APPROVE.rank < Mode.ENFORCE.rank


def test_a_proposal_names_what_its_button_says_and_survives_its_json():
    proposal = a_proposal()
    assert proposal.label == "Roll back to api:5"
    assert proposal.drawn_against.task_definition == td(6) and proposal.drawn_against.primary_deployment == "ecs-svc/6"
    assert stored(proposal.model_dump(mode="json")) == proposal
    assert stored({"id": "x"}) is None


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"now": NOW + timedelta(minutes=61)}, "expired at"),
        ({"clicked": "older"}, "newer proposal"),
        ({"status": IncidentStatus.RESOLVED}, "resolved"),
        ({"view": view(deployment(7, running=0, status="PRIMARY", rollout="IN_PROGRESS"))}, "someone deployed"),
        ({"view": deploying(old_running=2).model_copy(update={"desired_count": 5})}, "someone scaled"),
    ],
)
def test_a_proposal_expires_when_the_picture_changes(change: dict[str, object], why: str):
    proposal = a_proposal()
    reason = expired(
        proposal,
        str(change.get("clicked", proposal.id)),
        incident(status=change.get("status", IncidentStatus.OPEN)),
        change.get("view", deploying(old_running=2)),  # type: ignore[arg-type]
        change.get("now", NOW + timedelta(minutes=5)),  # type: ignore[arg-type]
    )
    assert reason is not None and why in reason


def test_a_proposal_on_the_same_picture_within_its_time_holds():
    proposal = a_proposal()
    assert expired(proposal, proposal.id, incident(), deploying(old_running=1), NOW + timedelta(minutes=59)) is None


def proposed_state(proposal: Proposal) -> ServiceState:
    record = {"outcome": "proposed", "action": proposal.action.model_dump(mode="json")}
    open_incident = incident(containment=record, proposal=proposal.model_dump(mode="json"))
    return ServiceState(service=open_incident.service, incidents={open_incident.id: open_incident})


def test_the_first_approval_takes_the_proposal_with_the_clicker_and_a_second_finds_it_taken():
    proposal = a_proposal()
    state = proposed_state(proposal)
    assert not needs_containment(state.incidents["inc-1"], NOW)  # the pipeline leaves a proposal to people
    first = claim(state, "inc-1", "click-1", NOW, {}, approval=(proposal.id, "alice (U1)"))
    assert first.changed and first.state.incidents["inc-1"].proposal["taken_by"] == "alice (U1)"
    assert not proposal_open(first.state.incidents["inc-1"], proposal.id)
    second = claim(first.state, "inc-1", "click-2", NOW, {}, approval=(proposal.id, "bob (U2)"))
    assert not second.changed
    assert not claim(state, "inc-1", "click-3", NOW, {}, approval=("another", "bob (U2)")).changed


def test_nobody_configured_means_nobody_may_press_and_the_refusal_names_the_keys():
    why = refusal("U1", frozenset(), None, None)
    assert why and "watchdog:slack_allowed_users" in why and "watchdog:slack_allowed_usergroup" in why


def test_listed_users_and_group_members_may_press_and_others_may_not():
    users = allowed_users(" U1, U2 ,,")
    assert users == {"U1", "U2"}
    assert refusal("U2", users, None, None) is None
    assert refusal("U9", users, "S1", frozenset({"U9"})) is None
    assert refusal("U9", users, "S1", None) is not None  # the group could not be read: listed users only
    assert "Not allowed" in (refusal("U9", users, None, None) or "")


def test_acknowledge_is_recorded_once_and_stops_count_updates():
    state = proposed_state(a_proposal())
    first = marks.acknowledge(state, "inc-1", "U1", "alice", NOW)
    acked = first.state.incidents["inc-1"]
    assert first.changed and acked.acknowledged["user_name"] == "alice"
    assert due_update(state.incidents["inc-1"], None, NOW + timedelta(hours=2))
    assert not due_update(acked, None, NOW + timedelta(hours=2))
    assert not marks.acknowledge(first.state, "inc-1", "U2", "bob", NOW).changed


def test_silence_mutes_until_its_time_and_a_shorter_one_does_not_shorten_it():
    state = proposed_state(a_proposal())
    day = marks.silence(state, "inc-1", "U1", "alice", NOW, timedelta(hours=24))
    silenced = day.state.incidents["inc-1"]
    assert silenced.silenced_at(NOW + timedelta(hours=23)) and not silenced.silenced_at(NOW + timedelta(hours=24))
    assert not marks.silence(day.state, "inc-1", "U2", "bob", NOW, timedelta(hours=1)).changed
