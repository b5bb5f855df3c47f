"""The incident engine's rules, as pure functions: thresholds, last known good, lifecycle, timers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecs_watchdog.incidents.action_outcomes import apply_containment
from ecs_watchdog.incidents.contract import MAX_OUTBOX, DeploymentSnapshot, ServiceSnapshot, StopFacts
from ecs_watchdog.incidents.deployments import apply_deployment_event, bootstrap
from ecs_watchdog.incidents.failed_stops import apply_stop
from ecs_watchdog.incidents.model import Explanation, IncidentKind, IncidentStatus, ServiceState, TransitionKind
from ecs_watchdog.incidents.policy import LoopPolicy, threshold_from_tags
from ecs_watchdog.incidents.service_action_events import apply_service_action
from ecs_watchdog.incidents.timers import check_timers

T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
GOOD = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:5"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:6"
POLICY = LoopPolicy()


def fresh(lkg: str | None = GOOD) -> ServiceState:
    return ServiceState(service="123456789012/us-east-1/prod/api", bootstrapped=True, last_known_good=lkg)


def failure(
    n: int, *, revision: str = NEW, category: str = "image", minute: float | None = None, version: int = 3
) -> StopFacts:
    return StopFacts(
        task_id=f"task{n:04d}",
        version=version,
        task_definition=revision,
        deployment_id="ecs-svc/2",
        category=category,
        at=T0 + timedelta(minutes=n if minute is None else minute),
        summary=f"{category} failure {n}",
        explanation=Explanation(
            evidence=[f"stoppedReason: failure {n}"], next_steps=["look"], runbook=f"docs/runbooks/{category}.md"
        ),
    )


def feed(state: ServiceState, stops, policy: LoopPolicy = POLICY, confirmed: bool = False):
    transitions = []
    for stop in stops:
        result = apply_stop(state, stop, policy, confirmed)
        state, transitions = result.state, transitions + result.transitions
    return state, transitions


def test_failing_deployment_opens_at_the_threshold_and_not_one_below():
    below, none = feed(fresh(), [failure(1), failure(2)])
    assert none == [] and not below.incidents
    state, transitions = feed(below, [failure(3)])
    (opened,) = transitions
    assert (opened.kind, opened.incident.kind, opened.incident.category) == (
        TransitionKind.OPENED,
        IncidentKind.FAILING_DEPLOYMENT,
        "image",
    )
    assert opened.incident.failures == 3 and opened.incident.last_known_good == GOOD
    assert opened.explanation is not None
    assert opened.explanation.evidence == ["stoppedReason: failure 3"]
    assert opened.explanation.runbook == "docs/runbooks/image.md"
    assert [t.id for t in state.outbox] == [opened.id]


def test_further_failures_count_in_the_open_incident_without_new_transitions():
    state, transitions = feed(fresh(), [failure(n) for n in range(1, 41)])
    assert len(transitions) == 1
    (incident,) = state.incidents.values()
    assert incident.failures == 40 and incident.categories == {"image": 40}
    # A crash loop folds into one timeline entry instead of one per failure: the opening failure,
    # the "opened" transition, then one entry for the 37 failures after it.
    assert [(e.kind, e.count) for e in incident.timeline] == [("failure", 1), ("transition", 1), ("failure", 37)]


def test_a_service_tag_overrides_the_threshold():
    assert threshold_from_tags({"ecs-watchdog:threshold": "5"}) == 5
    with pytest.raises(ValueError, match="ecs-watchdog:threshold='many'"):
        threshold_from_tags({"ecs-watchdog:threshold": "many"})
    state = fresh().model_copy(update={"threshold_override": 5})
    state, transitions = feed(state, [failure(n) for n in range(1, 5)])
    assert transitions == []
    assert len(feed(state, [failure(5)])[1]) == 1


def test_crash_loop_of_a_healthy_revision_needs_the_same_cause_within_the_window():
    spread = [failure(n, revision=GOOD, minute=n * 10) for n in range(1, 4)]  # 10 min apart: window 15
    assert feed(fresh(), spread)[1] == []
    mixed = [
        failure(1, revision=GOOD, category="oom"),
        failure(2, revision=GOOD),
        failure(3, revision=GOOD, category="network"),
    ]
    assert feed(fresh(), mixed)[1] == []
    burst = [failure(n, revision=GOOD, category="secrets") for n in range(1, 4)]
    (opened,) = feed(fresh(), burst)[1]
    assert (opened.incident.kind, opened.incident.category) == (IncidentKind.CRASH_LOOP, "secrets")


def test_a_probe_confirmed_deterministic_cause_opens_at_the_first_failure():
    (opened,) = feed(fresh(), [failure(1, category="secrets")], confirmed=True)[1]
    assert opened.incident.kind is IncidentKind.DETERMINISTIC
    assert feed(fresh(), [failure(1, category="container_exit")], confirmed=True)[1] == []


def test_unknown_failures_count_but_do_not_make_an_incident_eligible_for_containment():
    (opened,) = feed(fresh(), [failure(n, category="unknown") for n in (1, 2, 3)])[1]
    assert opened.incident.containment_eligible is False
    state, _ = feed(fresh(), [failure(1, category="unknown"), failure(2), failure(3)])
    assert next(iter(state.incidents.values())).containment_eligible is True


def test_duplicates_and_later_versions_of_a_counted_stop_change_nothing():
    state, _ = feed(fresh(), [failure(1)])
    again = apply_stop(state, failure(1), POLICY)
    later = apply_stop(state, failure(1, version=5), POLICY)
    assert (again.changed, later.changed) == (False, False)
    assert state.revisions[NEW].failures_since_healthy == 1


def test_deployment_completed_sets_last_known_good_and_resolves_then_quiet_closes():
    state, _ = feed(fresh(lkg=None), [failure(n) for n in (1, 2, 3)])
    done = apply_deployment_event(
        state,
        "SERVICE_DEPLOYMENT_COMPLETED",
        "ecs-svc/9",
        T0 + timedelta(minutes=5),
        "rolled back",
        ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/9", GOOD, "PRIMARY", "COMPLETED"),)),
        POLICY,
    )
    assert done.state.last_known_good == GOOD and done.state.last_known_good_source == "deployment_completed"
    assert [t.kind for t in done.transitions] == [TransitionKind.RESOLVED]
    early = check_timers(done.state, T0 + timedelta(minutes=10), POLICY)
    assert early.transitions == [] and early.changed is False
    closed = check_timers(done.state, T0 + timedelta(minutes=21), POLICY)
    assert [t.kind for t in closed.transitions] == [TransitionKind.CLOSED] and not closed.state.incidents


def test_failures_resuming_within_the_window_reopen_the_incident():
    state, _ = feed(fresh(), [failure(n) for n in (1, 2, 3)])
    state = apply_service_action(state, "SERVICE_STEADY_STATE", T0 + timedelta(minutes=4), "", None, POLICY).state
    (incident,) = state.incidents.values()
    assert incident.status is IncidentStatus.RESOLVED
    reopened = apply_stop(state, failure(9), POLICY)
    assert [t.kind for t in reopened.transitions] == [TransitionKind.REOPENED]


def test_out_of_order_deployment_events_never_undo_a_completion():
    state = fresh()
    snapshot = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "COMPLETED"),))
    done = apply_deployment_event(
        state, "SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/2", T0 + timedelta(minutes=9), "", snapshot, POLICY
    ).state
    stale = apply_deployment_event(done, "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", T0, "", snapshot, POLICY)
    assert stale.changed is False and done.deployments["ecs-svc/2"].status == "COMPLETED"


def test_a_deployment_in_progress_too_long_is_stuck():
    snapshot = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS"),))
    state = apply_deployment_event(
        fresh(), "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", T0, "", snapshot, POLICY
    ).state
    assert check_timers(state, T0 + timedelta(minutes=30), POLICY).transitions == []
    (stuck,) = check_timers(state, T0 + timedelta(minutes=31), POLICY).transitions
    assert stuck.incident.kind is IncidentKind.STUCK_DEPLOYMENT and "IN_PROGRESS for 31 min" in stuck.summary


def test_two_deployments_in_progress_open_an_overlap_incident():
    snapshot = ServiceSnapshot(
        deployments=(
            DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS"),
            DeploymentSnapshot("ecs-svc/3", NEW, "ACTIVE", "IN_PROGRESS"),
        )
    )
    (opened,) = apply_deployment_event(
        fresh(), "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/3", T0, "", snapshot, POLICY
    ).transitions
    assert opened.incident.kind is IncidentKind.OVERLAPPING_DEPLOYMENTS
    assert "2 deployments IN_PROGRESS" in opened.summary


def test_start_impaired_opens_an_incident_that_adopts_later_failures():
    impaired = apply_service_action(fresh(), "SERVICE_TASK_START_IMPAIRED", T0, "", None, POLICY)
    (opened,) = impaired.transitions
    assert opened.incident.kind is IncidentKind.START_IMPAIRED
    state, transitions = feed(impaired.state, [failure(1)])
    assert transitions == [] and next(iter(state.incidents.values())).category == "image"


def test_bootstrap_takes_last_known_good_from_the_completed_deployment_and_never_guesses():
    snapshot = ServiceSnapshot(
        deployments=(
            DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS", T0),
            DeploymentSnapshot("ecs-svc/1", GOOD, "ACTIVE", "COMPLETED", T0 - timedelta(days=1)),
        ),
        threshold_override=7,
    )
    state = bootstrap(ServiceState(service="s"), snapshot, T0)
    assert (state.last_known_good, state.last_known_good_source, state.threshold_override) == (
        GOOD,
        "describe_services",
        7,
    )
    brand_new = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS"),))
    assert bootstrap(ServiceState(service="s"), brand_new, T0).last_known_good is None


def test_containment_that_took_effect_makes_the_incident_contained():
    state, (opened,) = feed(fresh(), [failure(n) for n in (1, 2, 3)])
    result = apply_containment(state, opened.incident.id, "rollback to api:5", True, T0 + timedelta(minutes=4))
    assert [t.kind for t in result.transitions] == [TransitionKind.CONTAINED]
    assert apply_containment(result.state, opened.incident.id, "again", True, T0).changed is False


def test_the_engine_never_changes_the_state_it_was_given():
    state, _ = feed(fresh(), [failure(1), failure(2)])
    before = state.model_dump_json()
    apply_stop(state, failure(3), POLICY)
    check_timers(state, T0 + timedelta(hours=2), POLICY)
    assert state.model_dump_json() == before


def test_the_same_deployment_failed_event_twice_opens_one_incident():
    snapshot = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "FAILED"),))
    first = apply_deployment_event(fresh(), "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", T0, "", snapshot, POLICY)
    rollback = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/1", GOOD, "PRIMARY", "COMPLETED"),))
    resolved = apply_deployment_event(
        first.state, "SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1", T0 + timedelta(minutes=3), "", rollback, POLICY
    )
    again = apply_deployment_event(resolved.state, "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", T0, "", snapshot, POLICY)
    assert [t.kind for t in first.transitions] == [TransitionKind.OPENED]
    assert again.transitions == [] and again.changed is False


def test_a_stop_from_before_the_resolution_arriving_late_does_not_reopen():
    state, _ = feed(fresh(), [failure(n) for n in (1, 2, 3)])
    state = apply_service_action(state, "SERVICE_STEADY_STATE", T0 + timedelta(minutes=10), "", None, POLICY).state
    late = apply_stop(state, failure(4, minute=3.5), POLICY)
    assert late.transitions == []


def test_a_deployment_is_reported_stuck_once_even_if_no_event_ever_ends_it():
    snapshot = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS"),))
    state = apply_deployment_event(
        fresh(), "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", T0, "", snapshot, POLICY
    ).state
    kinds = []
    for minute in (40, 50, 60, 70):
        timers = check_timers(state, T0 + timedelta(minutes=minute), POLICY)
        steady = apply_service_action(
            timers.state, "SERVICE_STEADY_STATE", T0 + timedelta(minutes=minute), "", None, POLICY
        )
        state, kinds = steady.state, kinds + [t.kind for t in timers.transitions + steady.transitions]
    assert kinds == [TransitionKind.OPENED, TransitionKind.RESOLVED, TransitionKind.CLOSED]  # opened once


def test_describe_services_settles_deployments_whose_own_events_were_lost():
    snapshot = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/2", NEW, "PRIMARY", "IN_PROGRESS"),))
    state = apply_deployment_event(
        fresh(), "SERVICE_DEPLOYMENT_IN_PROGRESS", "ecs-svc/2", T0, "", snapshot, POLICY
    ).state
    later = ServiceSnapshot(deployments=(DeploymentSnapshot("ecs-svc/3", NEW, "PRIMARY", "COMPLETED"),))
    steady = apply_service_action(state, "SERVICE_STEADY_STATE", T0 + timedelta(minutes=5), "", later, POLICY)
    assert steady.state.deployments["ecs-svc/2"].status == "INACTIVE"
    assert check_timers(steady.state, T0 + timedelta(hours=2), POLICY).transitions == []


def test_announcements_carry_no_timeline_and_the_outbox_is_bounded():
    state, transitions = feed(fresh(), [failure(n) for n in (1, 2, 3)])
    assert transitions[0].incident.timeline == [] and state.incidents[transitions[0].incident.id].timeline
    for n in range(200):  # incidents opening and resolving while nothing is ever delivered
        minute = 10 + n * 40
        state, _ = feed(state, [failure(1000 + 3 * n + k, minute=minute + k) for k in range(3)])
        state = apply_service_action(
            state, "SERVICE_STEADY_STATE", T0 + timedelta(minutes=minute + 5), "", None, POLICY
        ).state
    assert len(state.outbox) == MAX_OUTBOX


def test_a_rollback_by_the_circuit_breaker_contains_the_incident_and_is_announced():
    from ecs_watchdog.incidents.deployments import apply_deployment_event
    from ecs_watchdog.incidents.model import ServiceState, TransitionKind
    from ecs_watchdog.incidents.policy import LoopPolicy

    state = ServiceState(service="a/r/c/s", bootstrapped=True)
    reason = "ECS deployment circuit breaker: tasks failed to start. Rolling back to deployment ecs-svc/1."
    result = apply_deployment_event(state, "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", T0, reason, None, LoopPolicy())
    assert [t.kind for t in result.transitions] == [TransitionKind.OPENED, TransitionKind.CONTAINED]
    (incident,) = result.state.incidents.values()
    assert incident.status == "contained" and "circuit breaker" in result.transitions[-1].summary


def test_a_revision_ecs_rolled_back_stays_proven_bad_after_its_incident_resolves():
    from ecs_watchdog.incidents.deployments import apply_deployment_event
    from ecs_watchdog.incidents.model import DeploymentRecord, ServiceState
    from ecs_watchdog.incidents.policy import LoopPolicy

    bad = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7"
    state = ServiceState(
        service="a/r/c/s",
        bootstrapped=True,
        deployments={"ecs-svc/2": DeploymentRecord(id="ecs-svc/2", task_definition=bad)},
    )
    reason = "ECS deployment circuit breaker: tasks failed to start. Rolling back to deployment ecs-svc/1."
    result = apply_deployment_event(state, "SERVICE_DEPLOYMENT_FAILED", "ecs-svc/2", T0, reason, None, LoopPolicy())
    assert result.state.revisions[bad].proven_bad
    for incident in result.state.incidents.values():
        incident.status = "resolved"
    assert bad in result.state.failing_revisions()
