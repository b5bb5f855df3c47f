"""The deployment gate answers PAUSE lifecycle hooks from the target revision's incidents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecs_watchdog.contain.models import ApiCall, CallRefused, DeploymentView, Mode, ServiceView
from ecs_watchdog.gate.pause import DeploymentGate, awaiting
from ecs_watchdog.gate.target import revision_held_back
from ecs_watchdog.incidents.model import Incident, IncidentKind, RevisionHealth, ServiceState

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OLD, NEW = "arn:aws:ecs:us-east-1:1:task-definition/api:5", "arn:aws:ecs:us-east-1:1:task-definition/api:6"
DETAIL = {
    "eventName": "HOOK_AWAITING_ACTION",
    "hookId": "hook-1",
    "hookType": "PAUSE",
    "lifecycleStage": "POST_SCALE_UP",
    "expiresAt": (NOW + timedelta(hours=1)).isoformat(),
    "clusterArn": "arn:aws:ecs:us-east-1:1:cluster/prod",
    "serviceArn": "arn:aws:ecs:us-east-1:1:service/prod/api",
    "serviceDeploymentArn": "arn:aws:ecs:us-east-1:1:service-deployment/prod/api/abc",
}


class FakeActions:
    def __init__(self, tags: dict[str, str] | None = None, refuse: bool = False) -> None:
        self.tags = {"ecs-watchdog:gate": "on"} if tags is None else tags
        self.made: list[ApiCall] = []
        self.refuse = refuse

    def describe_service_view(self, cluster: str, service: str) -> ServiceView:
        return ServiceView(
            cluster=cluster,
            service=service,
            service_arn=DETAIL["serviceArn"],
            desired_count=4,
            running_count=4,
            task_definition=NEW,
            deployments=(
                DeploymentView(id="d2", task_definition=NEW, status="PRIMARY", rollout_state="IN_PROGRESS"),
                DeploymentView(
                    id="d1", task_definition=OLD, status="ACTIVE", rollout_state="COMPLETED", running_count=4
                ),
            ),
            tags=self.tags,
            current_service_deployment_arn=DETAIL["serviceDeploymentArn"],
        )

    def make(self, call: ApiCall) -> None:
        if self.refuse:
            raise CallRefused(call, "InvalidParameterException", "the hook is not awaiting action")
        self.made.append(call)


class Later:
    def __init__(self) -> None:
        self.queued: list[tuple[str, int]] = []

    def later(self, body: str, delay_seconds: int) -> None:
        self.queued.append((body, delay_seconds))


def state_with(*, incident: bool = False, failures: int = 0) -> ServiceState:
    state = ServiceState(
        service="1/us-east-1/prod/api", revisions={NEW: RevisionHealth(failures_since_healthy=failures)}
    )
    if incident:
        state.incidents["i"] = Incident(
            id="i",
            service=state.service,
            kind=IncidentKind.FAILING_DEPLOYMENT,
            task_definition=NEW,
            opened_at=NOW,
            updated_at=NOW,
        )
    return state


def test_a_target_revision_with_an_open_incident_is_rolled_back():
    actions = FakeActions()
    answer = DeploymentGate(actions, Mode.ENFORCE).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert answer.verdict == "ROLLBACK" and answer.made
    (call,) = actions.made
    assert call.params == {
        "serviceDeploymentArn": DETAIL["serviceDeploymentArn"],
        "hookId": "hook-1",
        "action": "ROLLBACK",
    }


def test_a_target_revision_that_never_failed_is_continued():
    actions = FakeActions()
    answer = DeploymentGate(actions, Mode.ENFORCE).answer(DETAIL, "{}", state_with(), NOW)
    assert answer.verdict == "CONTINUE" and actions.made[0].params["action"] == "CONTINUE"


def test_an_undecided_gate_decides_again_later_never_after_the_hook_expires():
    later = Later()
    answer = DeploymentGate(FakeActions(), Mode.ENFORCE, later).answer(DETAIL, "body", state_with(failures=1), NOW)
    assert answer.verdict == "WAIT" and later.queued == [("body", 60)]
    near_expiry = NOW + timedelta(minutes=59)
    answer = DeploymentGate(FakeActions(), Mode.ENFORCE, later).answer(
        DETAIL, "body", state_with(failures=1), near_expiry
    )
    assert answer.verdict == "CONTINUE"  # the watchdog's doubt never rolls a deployment back


def test_services_that_did_not_opt_in_are_left_alone_and_dry_run_and_notify_fail_open():
    for mode in Mode:
        not_opted = FakeActions(tags={})
        answer = DeploymentGate(not_opted, mode).answer(DETAIL, "{}", state_with(incident=True), NOW)
        assert answer.verdict == "skipped" and not_opted.made == []
    dry = FakeActions()
    answer = DeploymentGate(dry, Mode.DRY_RUN).answer(DETAIL, "{}", state_with(incident=True), NOW)
    assert answer.verdict == "CONTINUE" and answer.made and "would answer ROLLBACK" in answer.reason
    assert [c.params["action"] for c in dry.made] == ["CONTINUE"]
    quiet = FakeActions()
    assert DeploymentGate(quiet, Mode.NOTIFY).answer(DETAIL, "{}", None, NOW).verdict == "CONTINUE"
    assert [c.params["action"] for c in quiet.made] == ["CONTINUE"]


def test_a_refused_answer_is_reported_not_raised():
    answer = DeploymentGate(FakeActions(refuse=True), Mode.ENFORCE).answer(DETAIL, "{}", state_with(), NOW)
    assert not answer.made and "refused" in answer.reason


def test_only_hooks_awaiting_action_are_answered_and_unknown_targets_count_as_undecided():
    assert awaiting(DETAIL) and not awaiting({**DETAIL, "eventName": "HOOK_SUCCEEDED"})
    assert revision_held_back(state_with(failures=2), NEW) is None
    assert revision_held_back(None, NEW) is False


def test_a_hook_naming_another_services_deployment_is_never_answered():
    # Sent to the events queue (or as a console test event): opted-in `api`, billing's paused deployment.
    for mode in Mode:
        actions = FakeActions()
        forged = {**DETAIL, "serviceDeploymentArn": "arn:aws:ecs:us-east-1:1:service-deployment/prod/billing/xyz"}
        answer = DeploymentGate(actions, mode).answer(forged, "{}", state_with(incident=True), NOW)
        assert answer.verdict == "skipped" and actions.made == []
        assert "another service" in answer.reason
    other_account = {**DETAIL, "serviceDeploymentArn": "arn:aws:ecs:us-east-1:2:service-deployment/prod/api/abc"}
    assert DeploymentGate(FakeActions(), Mode.ENFORCE).answer(other_account, "{}", state_with(), NOW).verdict == (
        "skipped"
    )


def test_a_hook_of_the_services_own_but_not_current_deployment_is_never_answered():
    actions = FakeActions()
    stale = {**DETAIL, "serviceDeploymentArn": "arn:aws:ecs:us-east-1:1:service-deployment/prod/api/older"}
    answer = DeploymentGate(actions, Mode.ENFORCE).answer(stale, "{}", state_with(), NOW)
    assert answer.verdict == "skipped" and actions.made == []
    assert "current deployment" in answer.reason
