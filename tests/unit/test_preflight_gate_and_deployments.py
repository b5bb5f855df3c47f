"""A revision that fails its preflight is held before its first task: the deployment event opens the incident,
the PAUSE gate answers ROLLBACK (enforce) or fails open (dry-run), and the preflight's own trouble holds nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ecs_watchdog.contain.models import Mode
from ecs_watchdog.diagnose.preflight import Preflight, PreflightCheck
from ecs_watchdog.events import parse_envelope
from ecs_watchdog.flow.changes import deployment_change
from ecs_watchdog.gate.pause import DeploymentGate
from ecs_watchdog.incidents.contract import DeploymentSnapshot, ServiceSnapshot
from ecs_watchdog.incidents.model import IncidentKind, RevisionHealth, ServiceState
from ecs_watchdog.incidents.policy import LoopPolicy
from tests.unit.test_gate import DETAIL, NEW, NOW, FakeActions, state_with

FIXTURE = Path(__file__).parents[1] / "fixtures" / "events" / "deployment_in_progress.json"
REVISION = "arn:aws:ecs:us-west-2:111122223333:task-definition/servicetest:7"
NEVER_PUSHED = "servicetest:1.0.1 is not in the repository (never pushed, or deleted)"


def _preflight(status: str = "fail") -> Preflight:
    image = PreflightCheck(name="image", status=status, summary=NEVER_PUSHED if status == "fail" else "exists")
    return Preflight(task_definition=REVISION, checks=(image,))


class Recorded:
    def __init__(self, answer: Preflight | None = None, error: Exception | None = None) -> None:
        self.answer, self.error, self.asked = answer, error, []

    def __call__(self, task_definition: str, cluster: str, service: str) -> Preflight | None:
        self.asked.append((task_definition, cluster, service))
        if self.error:
            raise self.error
        return self.answer


def _decide(preflight: Recorded, state: ServiceState | None = None):
    event = parse_envelope(json.loads(FIXTURE.read_text())["event"])
    change = deployment_change(event, LoopPolicy(), preflight)
    assert change is not None
    snapshot = ServiceSnapshot(
        deployments=(DeploymentSnapshot("ecs-svc/123", REVISION, "PRIMARY", "IN_PROGRESS", None),)
    )
    return change.decide(state or ServiceState(service=change.ref.key, bootstrapped=True), snapshot)


def test_a_new_deployment_whose_image_was_never_pushed_opens_a_deterministic_incident_at_once():
    preflight = Recorded(_preflight())
    result = _decide(preflight)
    (incident,) = result.state.incidents.values()
    assert preflight.asked == [(REVISION, "default", "servicetest")]
    assert incident.kind is IncidentKind.DETERMINISTIC
    assert (incident.category, incident.task_definition, incident.deployment_id) == ("image", REVISION, "ecs-svc/123")
    assert incident.failures == 0 and incident.containment_eligible
    (opened,) = result.transitions
    assert NEVER_PUSHED in opened.summary
    assert opened.probes == [{"name": "preflight image", "status": "fail", "summary": NEVER_PUSHED}]


def test_a_revision_that_passes_its_preflight_opens_nothing():
    assert not _decide(Recorded(_preflight("pass"))).state.incidents


def test_a_preflight_that_could_not_run_opens_nothing():
    assert not _decide(Recorded(None)).state.incidents


def test_a_revision_seen_healthy_is_not_judged_by_its_preflight():
    state = ServiceState(
        service="111122223333/us-west-2/default/servicetest",
        bootstrapped=True,
        revisions={REVISION: RevisionHealth(healthy_at=datetime(2020, 5, 1, tzinfo=UTC))},
    )
    assert not _decide(Recorded(_preflight()), state).state.incidents


def _gate(mode: Mode, preflight: Recorded, actions: FakeActions) -> DeploymentGate:
    return DeploymentGate(actions, mode, preflight=preflight)


def test_enforce_pause_hook_answers_rollback_when_the_new_revision_fails_its_preflight():
    actions, preflight = FakeActions(), Recorded(_preflight())
    answer = _gate(Mode.ENFORCE, preflight, actions).answer(
        {**DETAIL, "lifecycleStage": "PRE_SCALE_UP"}, "{}", state_with(), NOW
    )
    assert (answer.verdict, answer.made) == ("ROLLBACK", True)
    assert NEVER_PUSHED in answer.reason
    assert actions.made[0].params["action"] == "ROLLBACK"
    assert preflight.asked == [(NEW, "prod", "api")]


def test_dry_run_pause_hook_fails_open_and_says_it_would_have_rolled_back():
    actions = FakeActions()
    answer = _gate(Mode.DRY_RUN, Recorded(_preflight()), actions).answer(
        {**DETAIL, "lifecycleStage": "PRE_SCALE_UP"}, "{}", state_with(), NOW
    )
    assert answer.verdict == "CONTINUE"
    assert "would answer ROLLBACK" in answer.reason
    assert actions.made[0].params["action"] == "CONTINUE"


def test_the_preflights_own_trouble_lets_the_deployment_continue():
    actions = FakeActions()
    answer = _gate(Mode.ENFORCE, Recorded(error=TimeoutError("ecr")), actions).answer(
        {**DETAIL, "lifecycleStage": "PRE_SCALE_UP"}, "{}", state_with(), NOW
    )
    assert answer.verdict == "CONTINUE"


def test_a_traffic_shift_hook_is_never_held_by_a_preflight():
    preflight = Recorded(_preflight())
    answer = _gate(Mode.ENFORCE, preflight, FakeActions()).answer(
        {**DETAIL, "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT"}, "{}", state_with(), NOW
    )
    assert answer.verdict == "CONTINUE"
    assert preflight.asked == []
