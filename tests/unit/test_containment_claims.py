"""What an incident remembers of containment (contain/claims.py): one action per deployment, a claim that
outlives its invocation, a claim given back, and the revisions never to roll back to."""

from __future__ import annotations

from datetime import timedelta

from ecs_watchdog.contain import claims
from ecs_watchdog.incidents.model import IncidentStatus, RevisionHealth, ServiceState
from tests.unit.containment_builders import NOW, incident, td


def service_with(*incidents) -> ServiceState:
    return ServiceState(service=incidents[0].service, incidents={i.id: i for i in incidents})


def done(deployment_id: str) -> dict:
    return {"outcome": "done", "action": {"kind": "rollback_deployment", "deployment_id": deployment_id}}


def test_an_incident_acted_on_is_acted_on_again_only_for_a_new_deployment() -> None:
    same = incident(deployment_id="ecs-svc/1", containment=done("ecs-svc/1"))
    assert not claims.needs_containment(same, NOW)
    redeployed = incident(deployment_id="ecs-svc/2", containment=done("ecs-svc/1"))
    assert claims.needs_containment(redeployed, NOW)


def test_a_claim_is_decided_again_only_once_its_invocation_must_have_stopped() -> None:
    claim = {"outcome": "claimed", "owner": "a", "at": NOW.isoformat(), "action": {}}
    assert not claims.needs_containment(incident(containment=claim), NOW + timedelta(seconds=90))
    assert claims.needs_containment(incident(containment=claim), NOW + claims.CLAIM_LEASE)


def test_failed_refused_and_unknown_are_decided_again_after_the_recheck_interval() -> None:
    for outcome in ("failed", "refused", "unknown"):
        record = incident(containment={"outcome": outcome, "action": {}}, containment_checked_at=NOW)
        assert not claims.needs_containment(record, NOW + timedelta(minutes=1))
        assert claims.needs_containment(record, NOW + claims.RECHECK)


def test_a_released_claim_leaves_no_cooldown_and_a_line_in_the_timeline() -> None:
    before = NOW - timedelta(hours=2)
    state = service_with(incident()).model_copy(update={"last_action_at": before})
    claimed = claims.claim(state, "inc-1", "me", NOW, {"kind": "rollback_deployment"}).state
    assert claimed.last_action_at == NOW
    assert not claims.release(claimed, "inc-1", "someone else", NOW, "x").changed  # only its owner gives it back
    released = claims.release(claimed, "inc-1", "me", NOW, "the account write failed").state
    assert released.incidents["inc-1"].containment is None
    assert released.last_action_at == before
    assert "not attempted" in released.incidents["inc-1"].timeline[-1].detail


def test_an_action_that_took_effect_marks_its_revision_until_it_is_healthy_again() -> None:
    state = service_with(incident(6))
    recorded = claims.record(
        state,
        "inc-1",
        {"outcome": "done", "action": {"kind": "rollback_deployment", "after": {"task_definition": td(5)}}},
        {},
        "rolled back",
        True,
        NOW,
    ).state
    assert recorded.incidents["inc-1"].status is IncidentStatus.CONTAINED
    assert recorded.last_rollback_to == td(5)
    assert td(6) in recorded.failing_revisions()
    resolved = recorded.model_copy(deep=True)
    resolved.incidents["inc-1"].status = IncidentStatus.RESOLVED
    assert td(6) in resolved.failing_revisions()  # resolved by the rollback away from it: no better for it
    resolved.revisions[td(6)] = RevisionHealth(contained_at=NOW, healthy_at=NOW + timedelta(minutes=5))
    assert td(6) not in resolved.failing_revisions()


def test_an_orphaned_claim_knows_the_cooldown_it_replaced() -> None:
    before = NOW - timedelta(hours=2)
    state = service_with(incident()).model_copy(update={"last_action_at": before})
    claimed = claims.claim(state, "inc-1", "me", NOW, {"kind": "rollback_deployment"}).state.incidents["inc-1"]
    assert not claims.orphaned_claim(claimed, NOW + timedelta(minutes=1))
    assert claims.orphaned_claim(claimed, NOW + claims.CLAIM_LEASE)
    assert claims.action_at_before(claimed) == before


def test_an_undone_action_is_never_made_again_and_frees_the_revision_until_it_fails_again() -> None:
    contained = service_with(
        incident(6, status=IncidentStatus.OPEN, deployment_id="ecs-svc/2", containment=done("ecs-svc/1"))
    )
    contained.revisions[td(6)] = RevisionHealth(contained_at=NOW - timedelta(minutes=5))
    marked = claims.undone(contained, "inc-1", td(6), NOW).state
    assert not claims.needs_containment(marked.incidents["inc-1"], NOW)  # even for a new deployment
    assert td(6) not in marked.failing_revisions()
    marked.revisions[td(6)].last_failure_at = NOW + timedelta(minutes=1)
    assert td(6) in marked.failing_revisions()


def test_a_claims_lease_runs_by_the_clock_not_by_the_age_of_the_event() -> None:
    # A retried record's event is minutes old: its claim is fresh all the same.
    old_event = NOW - timedelta(minutes=6)
    state = service_with(incident())
    claimed = claims.claim(state, "inc-1", "me", old_event, {"kind": "rollback_deployment"}, NOW).state
    assert not claims.needs_containment(claimed.incidents["inc-1"], NOW, NOW + timedelta(seconds=30))
    assert claims.needs_containment(claimed.incidents["inc-1"], NOW, NOW + claims.CLAIM_LEASE)


def test_only_the_claims_owner_calls_and_records() -> None:
    state = claims.claim(service_with(incident()), "inc-1", "me", NOW, {"kind": "rollback_deployment"}, NOW).state
    assert not claims.calling(state, "inc-1", "someone else", NOW).changed
    calling = claims.calling(state, "inc-1", "me", NOW).state
    assert claims.holds(calling, "inc-1", "me", calling=True)
    assert not claims.holds(state, "inc-1", "me", calling=True)
    taken = claims.record(calling, "inc-1", {"outcome": "done", "action": {}}, {}, "x", True, NOW, "someone else")
    assert not taken.changed  # another invocation's claim holds the incident now


def test_an_orphaned_claim_that_never_started_its_calls_has_nothing_to_settle() -> None:
    state = claims.claim(service_with(incident()), "inc-1", "me", NOW, {"kind": "rollback_deployment"}, NOW).state
    assert claims.claimed_action(state.incidents["inc-1"]) is None
    calling = claims.calling(state, "inc-1", "me", NOW).state
    assert claims.claimed_action(calling.incidents["inc-1"]) == {"kind": "rollback_deployment"}


def test_the_action_that_took_effect_outlives_a_later_decision_and_is_announced_once() -> None:
    done_record = {"outcome": "done", "action": {"kind": "scale_to_zero", "after": {}}}
    state = claims.record(service_with(incident()), "inc-1", done_record, {}, "x", True, NOW).state
    assert state.incidents["inc-1"].acted == done_record
    again = claims.record(state, "inc-1", {"outcome": "not_acted", "action": {}}, {}, "y", False, NOW)
    assert again.state.incidents["inc-1"].acted == done_record
    twice = claims.record(state, "inc-1", done_record, {}, "x", True, NOW)
    assert twice.transitions == []  # already contained: no second CONTAINED
