"""Approve mode end to end on moto: the real events handler proposes (and makes no call), the real click desk
carries the proposal out on containment's own path — once, whoever presses how often — or says why not;
undo, acknowledge and silence are recorded on the incident, and every click is an audit event."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_watchdog.announce.cadence import due_update
from ecs_watchdog.approvals.click import ButtonKind, ButtonValue, Click, ClickResult
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.contain.models import Mode
from ecs_watchdog.flow.approvals import ClickDesk
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, audit_events, local_account
from ecs_watchdog.wiring.approvals import build_click_desk
from ecs_watchdog.wiring.settings import ENVIRONMENT, Settings
from tests.integration.incident_events import bodies, deployment, stopped, td
from tests.integration.service_setup import create_service, invoke
from tests.integration.test_containment import KEY, calls, moto_service, serving

ALICE, BOB, MALLORY = "U0ALICE01", "U0BOB0002", "U0MALLORY"
NAMES = {ALICE: "alice", BOB: "bob", MALLORY: "mallory"}


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a function configured with `settings` runs with (what infra/ would set)."""
    env = {name: str(getattr(settings, field)) for name, field in ENVIRONMENT.items() if getattr(settings, field)}
    return {**env, "WATCHDOG_SLACK_ALLOWED_USERS": f"{ALICE},{BOB}", **extra}


@dataclass
class Approving:
    """The module's approve-mode sandbox, seen by one test: a service of its own (`service`), task numbers of
    its own, and the captures (SNS, audit, Slack, ECS calls) emptied before the test."""

    sandbox: LocalAccount
    service: str
    first_task: int

    def __getattr__(self, name: str) -> Any:  # session, settings, sns_messages, slack, service_deployments
        return getattr(self.sandbox, name)

    @property
    def key(self) -> str:
        return KEY.rsplit("/", 1)[0] + f"/{self.service}"


@pytest.fixture(scope="module")
def approve_mode() -> Iterator[LocalAccount]:
    """One sandbox for the module (a sandbox costs about a second): approve mode, and guards that count across
    services — correlated failures, the hourly cap — set out of reach, as every test's service fails alike."""
    with local_account() as sandbox:
        sandbox.settings = sandbox.settings.model_copy(
            update={"mode": Mode.APPROVE, "correlated_services": 1000, "max_actions_per_hour": 1000}
        )
        ecs_events.install(sandbox.settings, sandbox.session)
        yield sandbox


@pytest.fixture
def approving(approve_mode: LocalAccount) -> Approving:
    number = next(_CASES)
    case = Approving(approve_mode, service=f"svc{number}", first_task=100 * number)
    create_service(approve_mode, name=case.service)
    approve_mode.sns_messages(), audit_events(approve_mode.session)  # emptied: what this test sends, it reads
    approve_mode.slack.payloads.clear()
    assert approve_mode.service_deployments is not None
    approve_mode.service_deployments.calls.clear()
    ecs_events.install(approve_mode.settings, approve_mode.session)  # another module may have installed its own
    return case


_CASES = itertools.count(1)


def state(case: Approving) -> Any:
    return StateTable(case.session.client("dynamodb"), case.settings.state_table_name).load_service(case.key)


def desk(sandbox: Approving, **extra: str) -> ClickDesk:
    return build_click_desk(environment(sandbox.settings, **extra), session=sandbox.session)


def proposed(sandbox: Approving) -> Any:
    """A failing rollout with old tasks serving: the incident opens with a rollback proposed, nothing called."""
    serving(old_running=2, name=sandbox.service)
    n = sandbox.first_task
    invoke(bodies(*(stopped(n + k, k, service=sandbox.service) for k in (1, 2, 3))))
    (incident,) = state(sandbox).incidents.values()
    return incident


def click(incident: Any, kind: ButtonKind = ButtonKind.APPROVE, user: str = ALICE, action_ts: str = "1.1") -> Click:
    proposal = (incident.proposal or {}).get("id") if kind is ButtonKind.APPROVE else None
    return Click(
        kind=kind,
        target=ButtonValue(s=incident.service, i=incident.id, p=proposal),
        user_id=user,
        user_name=NAMES[user],
        action_ts=action_ts,
        clicked_at=datetime.now(UTC),
    )


def clicks_audited(sandbox: LocalAccount) -> list[dict[str, Any]]:
    return [e["detail"] for e in audit_events(sandbox.session) if e["detail"].get("kind") == "slack_click"]


def test_approve_mode_proposes_the_enforce_decision_and_makes_no_call(approving):
    incident = proposed(approving)
    assert calls(approving) == [] and moto_service(approving.service).task_definition.endswith("api:6")
    assert incident.status == "open" and incident.containment["outcome"] == "proposed"
    assert incident.proposal["action"]["calls"][0]["operation"] == "StopServiceDeployment"
    assert incident.proposal["drawn_against"]["task_definition"] == td(6)
    (message,) = approving.sns_messages()
    assert "Proposed: roll back to api:5 — press Approve" in message["Message"]


def test_an_approved_proposal_rolls_back_once_and_the_message_says_who_approved(approving):
    incident = proposed(approving)
    outcome = desk(approving).handle(click(incident))
    assert outcome.result is ClickResult.DONE, outcome.reply
    assert calls(approving) == ["StopServiceDeployment"]
    assert moto_service(approving.service).task_definition.endswith("api:5")
    (stored,) = state(approving).incidents.values()
    assert stored.status == "contained" and stored.proposal["taken_by"].startswith("alice")
    contained = approving.sns_messages()[-1]
    assert "CONTAINED" in contained["Subject"] and "approved in Slack by alice (U0ALICE01)" in contained["Message"]
    (audited,) = clicks_audited(approving)
    assert audited["user"] == {"id": ALICE, "name": "alice"} and audited["result"] == "done"


def test_a_proposal_after_a_persons_deployment_is_expired_and_does_nothing(approving):
    incident = proposed(approving)
    primary = moto_service(approving.service).deployments[0]
    primary.update(id="ecs-svc/3000000000000000007", taskDefinition=td(7))  # someone deployed revision 7
    moto_service(approving.service).task_definition = td(7)
    outcome = desk(approving).handle(click(incident))
    assert outcome.result is ClickResult.EXPIRED and "someone deployed" in outcome.reply
    assert calls(approving) == [] and state(approving).incidents[incident.id].containment["outcome"] == "proposed"


def test_two_people_approving_at_once_make_one_action(approving):
    incident = proposed(approving)
    desks = [desk(approving), desk(approving)]
    barrier = threading.Barrier(2)
    for one in desks:
        assert one.pipeline.containment is not None
        describe = one.pipeline.containment.actions.describe_service_view

        def in_step(cluster: str, service: str, describe: Any = describe, looks: list[str] = []) -> Any:  # noqa: B006
            view = describe(cluster, service)
            looks.append(service)
            if len(looks) == 1:  # the first look of each: both see the open proposal before either claims it
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=5)
            return view

        one.pipeline.containment.actions.describe_service_view = in_step  # type: ignore[method-assign]
    presses = [
        (desks[0], click(incident, user=ALICE, action_ts="1.1")),
        (desks[1], click(incident, user=BOB, action_ts="2.2")),
    ]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda pair: pair[0].handle(pair[1]), presses))
    assert sorted(o.result for o in outcomes) == sorted([ClickResult.DONE, ClickResult.DUPLICATE])
    assert calls(approving) == ["StopServiceDeployment"]


def test_slacks_retry_of_the_same_press_makes_one_action(approving):
    incident = proposed(approving)
    first = desk(approving).handle(click(incident, action_ts="7.7"))
    again = desk(approving).handle(click(incident, action_ts="7.7"))
    assert (first.result, again.result) == (ClickResult.DONE, ClickResult.DUPLICATE)
    assert "Already approved by alice" in again.reply
    assert calls(approving) == ["StopServiceDeployment"]


def test_a_click_from_someone_not_allowed_does_nothing_and_is_audited(approving):
    incident = proposed(approving)
    outcome = desk(approving).handle(click(incident, user=MALLORY))
    assert outcome.result is ClickResult.NOT_ALLOWED and "not allowed" in outcome.reply.lower()
    assert calls(approving) == [] and state(approving).incidents[incident.id].containment["outcome"] == "proposed"
    (audited,) = clicks_audited(approving)
    assert audited["user"]["id"] == MALLORY and audited["result"] == "not_allowed"


def test_with_nobody_allowed_every_click_is_refused_naming_the_context_key(approving):
    incident = proposed(approving)
    outcome = desk(approving, WATCHDOG_SLACK_ALLOWED_USERS="").handle(click(incident))
    assert outcome.result is ClickResult.NOT_ALLOWED and "watchdog:slack_allowed_users" in outcome.reply
    assert calls(approving) == []


def test_the_kill_switch_refuses_an_approval_and_keeps_the_proposal(approving):
    incident = proposed(approving)
    switch = f"/ecs-watchdog/kill-switch-{approving.service}"  # this test's own: the sandbox is shared
    approving.session.client("ssm").put_parameter(Name=switch, Value="on", Type="String")
    outcome = desk(approving, KILL_SWITCH_PARAMETER=switch).handle(click(incident))
    assert outcome.result is ClickResult.REFUSED and "kill switch" in outcome.reply
    assert calls(approving) == [] and state(approving).incidents[incident.id].containment["outcome"] == "proposed"


def test_undo_re_applies_the_revision_the_approved_rollback_replaced(approving):
    incident = proposed(approving)
    assert desk(approving).handle(click(incident)).result is ClickResult.DONE
    outcome = desk(approving).handle(click(incident, ButtonKind.UNDO, action_ts="3.3"))
    assert outcome.result is ClickResult.DONE, outcome.reply
    assert moto_service(approving.service).task_definition.endswith("api:6")
    assert state(approving).incidents[incident.id].acted["undone_at"]
    again = desk(approving).handle(click(incident, ButtonKind.UNDO, action_ts="3.4"))
    assert again.result is ClickResult.DUPLICATE


def test_acknowledge_names_the_person_and_stops_count_updates(approving):
    incident = proposed(approving)
    outcome = desk(approving).handle(click(incident, ButtonKind.ACKNOWLEDGE, user=BOB))
    assert outcome.result is ClickResult.DONE
    stored = state(approving).incidents[incident.id]
    assert stored.acknowledged["user_id"] == BOB
    assert not due_update(stored, None, stored.opened_at + timedelta(hours=3))
    assert desk(approving).handle(click(incident, ButtonKind.ACKNOWLEDGE)).result is ClickResult.DUPLICATE


def test_silence_mutes_every_channel_for_the_incident_until_its_time(approving):
    incident = proposed(approving)
    assert len(approving.sns_messages()) == 1  # the opening
    outcome = desk(approving).handle(click(incident, ButtonKind.SILENCE_1H))
    assert outcome.result is ClickResult.DONE and "Silenced until" in outcome.reply
    assert desk(approving).handle(click(incident, action_ts="4.4")).result is ClickResult.DONE  # contained now
    stored = state(approving)
    assert stored.incidents[incident.id].status == "contained" and stored.outbox == []  # recorded, not sent
    assert approving.sns_messages() == []


def test_many_presses_of_one_proposal_from_several_threads_make_one_action(approving):
    incident = proposed(approving)
    one = desk(approving)
    presses = [click(incident, user=(ALICE, BOB)[n % 2], action_ts=f"{n}.0") for n in range(12)]
    with ThreadPoolExecutor(4) as pool:
        results = [o.result for o in pool.map(one.handle, presses)]
    assert results.count(ClickResult.DONE) == 1 and results.count(ClickResult.DUPLICATE) == 11
    assert calls(approving) == ["StopServiceDeployment"]
    assert [a["result"] for a in clicks_audited(approving)].count("duplicate") == 11


def test_a_silenced_incidents_resolution_is_recorded_and_sent_nowhere(approving):
    incident = proposed(approving)
    assert len(approving.sns_messages()) == 1 and len(approving.slack.payloads) == 1  # the opening
    assert desk(approving).handle(click(incident, ButtonKind.SILENCE_24H)).result is ClickResult.DONE
    invoke(bodies(deployment("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1000000000000000001", 9, approving.service)))
    stored = state(approving)
    assert stored.incidents[incident.id].status == "resolved" and stored.outbox == []
    assert approving.sns_messages() == [] and len(approving.slack.payloads) == 1


class OneGroup:
    """The UserGroupMembers protocol as aws/slack_usergroups.py answers it (usergroups.users.list)."""

    def __init__(self, group: str, users: frozenset[str]) -> None:
        self.group, self.users = group, users
        self.asked: list[str] = []

    def members(self, group_id: str) -> frozenset[str]:
        self.asked.append(group_id)
        return self.users if group_id == self.group else frozenset()


def test_a_member_of_the_allowed_user_group_may_approve(approving):
    incident = proposed(approving)
    group = OneGroup("S0ONCALL1", frozenset({MALLORY}))
    env = environment(approving.settings, WATCHDOG_SLACK_ALLOWED_USERS="", WATCHDOG_SLACK_ALLOWED_USERGROUP="S0ONCALL1")
    outcome = build_click_desk(env, session=approving.session, groups=group).handle(click(incident, user=MALLORY))
    assert outcome.result is ClickResult.DONE and group.asked == ["S0ONCALL1"]
    assert calls(approving) == ["StopServiceDeployment"]


def test_a_proposal_approved_after_the_account_went_back_to_dry_run_is_refused(approving):
    incident = proposed(approving)
    dry_run = desk(approving, WATCHDOG_MODE="dry-run")
    outcome = dry_run.handle(click(incident))
    assert outcome.result is ClickResult.REFUSED and "dry-run" in outcome.reply
    assert calls(approving) == [] and state(approving).incidents[incident.id].containment["outcome"] == "proposed"
