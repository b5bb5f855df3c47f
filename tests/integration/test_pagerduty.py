"""PagerDuty end to end: the real handler on moto, the routing key in Secrets Manager, PagerDuty's Events
API v2 on 127.0.0.1. One incident is one page: one trigger and one resolve, whatever is redelivered or
fails on the way."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ecs_watchdog.contain.models import Mode
from ecs_watchdog.handlers import ecs_events
from ecs_watchdog.replay.sandbox import LocalAccount, local_account
from tests.integration.fake_pagerduty import FakePagerDuty
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, bodies, deployment, stopped
from tests.integration.service_setup import create_service, invoke
from tests.integration.test_containment import serving

SECRET = "ecs-watchdog/pagerduty"
KEY = f"ecs-watchdog/{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}/"


def watched(mode: Mode, pagerduty: FakePagerDuty) -> Iterator[LocalAccount]:
    with local_account() as sandbox:
        create_service(sandbox)
        sandbox.session.client("secretsmanager").create_secret(
            Name=SECRET, SecretString=json.dumps({"routing_key": "R0UT1NGKEY", "events_url": pagerduty.url})
        )
        sandbox.settings = sandbox.settings.model_copy(update={"mode": mode, "pagerduty_secret_name": SECRET})
        ecs_events.install(sandbox.settings, sandbox.session)
        yield sandbox


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
def enforcing(pagerduty: FakePagerDuty) -> Iterator[LocalAccount]:
    yield from watched(Mode.ENFORCE, pagerduty)


@pytest.fixture
def dry_run(pagerduty: FakePagerDuty) -> Iterator[LocalAccount]:
    yield from watched(Mode.DRY_RUN, pagerduty)


def test_an_incident_contained_at_once_is_one_trigger_then_one_resolve_under_redelivery(enforcing, pagerduty):
    serving(old_running=2)
    failures = bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3), stopped(4, 4))
    invoke(failures)
    invoke(failures, receive_count=2)  # SQS delivers the batch again
    (trigger,) = pagerduty.events
    assert trigger["event_action"] == "trigger" and trigger["dedup_key"].startswith(KEY)
    assert trigger["routing_key"] == "R0UT1NGKEY"
    assert trigger["payload"]["summary"].startswith("OPENED AND CONTAINED prod/api: Failing deployment (image)")
    assert trigger["payload"]["severity"] == "error" and trigger["payload"]["source"] == "prod/api"
    resolved = bodies(deployment("SERVICE_DEPLOYMENT_COMPLETED", "ecs-svc/1000000000000000001", 9))
    invoke(resolved)
    invoke(resolved, receive_count=2)
    assert pagerduty.actions() == [("trigger", trigger["dedup_key"]), ("resolve", trigger["dedup_key"])]


def test_a_500_is_retried_and_the_page_still_goes_out_once(dry_run, pagerduty):
    pagerduty.fail_next = [500]  # the client's one retry takes it
    assert invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))["batchItemFailures"] == []
    assert [a for a, _ in pagerduty.actions()] == ["trigger"] and pagerduty.requests == 2


def test_pagerduty_failing_for_a_while_sends_the_record_back_and_the_retry_pages_once(dry_run, pagerduty):
    pagerduty.fail_next = [503, 503]  # the retry fails too: the record goes back to SQS
    failures = bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3))
    assert invoke(failures)["batchItemFailures"] != []
    assert pagerduty.events == [] and len(dry_run.sns_messages()) == 1  # email did not wait for PagerDuty
    assert invoke(failures, receive_count=2)["batchItemFailures"] == []
    invoke(failures, receive_count=3)
    assert [a for a, _ in pagerduty.actions()] == ["trigger"]
    assert dry_run.sns_messages() == []  # nothing twice on the other channel either


def test_a_wrong_routing_key_is_reported_and_never_retried(dry_run, pagerduty):
    pagerduty.fail_next = [404]
    assert invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3)))["batchItemFailures"] == []
    assert pagerduty.events == [] and pagerduty.requests == 1
