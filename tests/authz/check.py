"""The authorization contract: every AWS call each Lambda function makes is allowed by the role the
synthesized template gives that function.

Design (why a dedicated module, not a hook over the whole suite): the suite's tests create resources
under whatever names suit them and run the handlers with hand-made settings, so their calls name ARNs
no deployment has; a session-finish hook would also judge only the subset a run selected, and fail
after the tests instead of in one. Here each function runs through its real handler with the
environment the template gives it, in a moto account holding what the template creates under the
names it gives them — so every ARN a call names is one the deployed function would touch — plus one
seed-like replay through the real handler. Completeness does not rest on the runs' choice: a test
checks every AWS operation the adapters under `aws/` make against the recorded calls, so an adapter
call no run reaches fails the suite. It costs three synths (~0.5 s each after the first), the runs
(moto, a few seconds), one replay and one node process: measured in the report.

For each template mode (dry-run, enforce, approve, notify), each call becomes the IAM requests AWS authorizes
(tests/authz/iam_requests.py, from the Service Authorization Reference data), evaluated against the
function's identity policies by @cloud-copilot/iam-simulate (tests/authz/simulate.mjs).
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecs_watchdog.replay import sandbox
from ecs_watchdog.wiring.settings import Settings
from tests.authz import organization
from tests.authz.evaluate import Decision, as_json, evaluate, granted
from tests.authz.iam_requests import IamRequest, Lookups, PlatformUse, requests_of
from tests.authz.recorder import CallRecorder, RecordedCall
from tests.authz.runs import (
    DeployedAccount,
    deployed_account,
    diagnose_runs,
    events_function_runs,
    lifecycle_hook_runs,
    local_slack,
    replay_run,
    slack_interactions_runs,
    sweep_runs,
)
from tests.authz.template import ACCOUNT, REGION, StackTemplate

SLACK_SECRET = sandbox.SLACK_SECRET_NAME
PAGERDUTY_SECRET = "ecs-watchdog/pagerduty"  # in every mode: the channel reads it wherever announcements go
# One template per mode; between them every optional grant is synthesized once.
MODES: dict[str, dict[str, Any]] = {
    "dry-run": {
        "watchdog:mode": "dry-run",
        "watchdog:slack_secret_name": SLACK_SECRET,
        "watchdog:pagerduty_secret_name": PAGERDUTY_SECRET,
    },
    "enforce": {
        "watchdog:mode": "enforce",
        "watchdog:slack_secret_name": SLACK_SECRET,
        "watchdog:probe_read_secret_values": True,
        "watchdog:pagerduty_secret_name": PAGERDUTY_SECRET,
    },
    # Approve mode (the Slack bot's buttons) proposes and acts only when a person approves, through the
    # function that answers the click: the events function runs here, and its role holds no write.
    "approve": {
        "watchdog:mode": "approve",
        "watchdog:slack_bot_secret_name": "ecs-watchdog/slack-bot",
        "watchdog:slack_channel": "#alerts",
        "watchdog:pagerduty_secret_name": PAGERDUTY_SECRET,
        # The approvals are carried out by the interactivity function: it runs here with the real desk.
        "watchdog:slack_signing_secret_name": "ecs-watchdog/slack-signing",
        "watchdog:slack_allowed_users": "U0123ONCALL",
    },
    "notify": {
        "watchdog:mode": "notify",
        "watchdog:slack_bot_secret_name": "ecs-watchdog/slack-bot",
        "watchdog:slack_channel": "#alerts",
        "watchdog:pagerduty_secret_name": PAGERDUTY_SECRET,
        # The buttons of the bot's living message: the interactivity function (bot mode only).
        "watchdog:slack_signing_secret_name": "ecs-watchdog/slack-signing",
        "watchdog:slack_allowed_users": "U0123ONCALL",
    },
}
RUNS: dict[str, Callable[[DeployedAccount], None]] = {
    "events": events_function_runs,
    "sweep": sweep_runs,
    "diagnose": diagnose_runs,
    "lifecycle_hook": lifecycle_hook_runs,
    "slack_interactions": slack_interactions_runs,
}
# Which functions run under which template. The events role differs in every mode; the sweep's only with
# the Slack bot (notify), the diagnose role with secret values (enforce) or without Slack (notify), the
# hook's never (it runs in dry-run and in enforce, where only it may answer FAILED); the Slack interactivity
# function exists only with the bot (approve, where its desk acts, and notify, where it only records) — and
# test_authorization.py checks that a role not run in a mode is the same as one that was.
RUN_IN: dict[str, tuple[str, ...]] = {
    "dry-run": ("events", "sweep", "diagnose", "lifecycle_hook"),
    "enforce": ("events", "diagnose", "lifecycle_hook"),
    "approve": ("events", "slack_interactions"),
    "notify": ("events", "sweep", "diagnose", "slack_interactions"),
}
# The lifecycle hook reads a service item the events runs would race, and the Slack desk's approvals would be
# paused by the events runs' correlated failures: each gets an account of its own.
OWN_ACCOUNT = ("lifecycle_hook", "slack_interactions")
# A replay through the real handler (replay/watchdog_adapter.py), whose gate answers a PAUSE hook, on the
# sandbox's resources (tests/authz/template.py names them alike).
REPLAY = ("gate-canary-healthy", "watchdog", "enforce")
SERVICE_WRITES = ("ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StopServiceDeployment")
IGNORE_TAG = "aws:ResourceTag/ecs-watchdog:action"


def synthesize(out: Path, context: dict[str, Any]) -> dict[str, Any]:
    """The stack's template for `context`, bound to the test account and region."""
    from tests.infra.conftest import synth

    saved = {k: os.environ.get(k) for k in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
    os.environ.update(CDK_DEFAULT_ACCOUNT=ACCOUNT, CDK_DEFAULT_REGION=REGION)
    try:
        app, stack = synth(out, context)
        return dict(app.synth().get_stack_by_name(stack.stack_name).template)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def authorization_report(out: Path) -> dict[str, Any]:
    """Synthesize, run, map, evaluate: everything the tests in test_authorization.py look at."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    stacks = {mode: StackTemplate(synthesize(out / mode, context)) for mode, context in MODES.items()}
    hubs = {
        mode: StackTemplate(synthesize(out / f"hub-{mode}", {**MODES[mode], **organization.HUB_CONTEXT}))
        for mode in organization.ORGANIZATION_MODES
    }
    members = {mode: organization.synthesize_member(out / f"member-{mode}", mode) for mode in hubs}
    timings["synth"] = time.perf_counter() - started
    roles: dict[str, list[dict[str, Any]]] = {}
    batch: list[tuple[str, str, IamRequest]] = []
    calls: list[dict[str, Any]] = []
    mark = time.perf_counter()
    with local_slack() as slack:
        for mode, stack in stacks.items():
            functions = stack.functions()
            for name, function in functions.items():
                roles[f"{mode}/{name}"] = list(function.policies)
                if name in RUN_IN[mode]:
                    platform = PlatformUse(name, function.log_group_arn, function.event_source_queue_arns)
                    batch += [(mode, f"{mode}/{name}", r) for r in platform.requests()]
            groups = [[n for n in RUN_IN[mode] if n not in OWN_ACCOUNT], [n for n in RUN_IN[mode] if n in OWN_ACCOUNT]]
            for group in (g for g in groups if g):
                # stdout is a function's log stream (EMF metrics, JSON logs): kept out of the test output.
                with CallRecorder() as recorder, deployed_account(stack, slack) as account, _quiet():
                    for name in group:
                        RUNS[name](account)
                    lookups = account.lookups()
                    for name in group:
                        batch += [(mode, f"{mode}/{name}", r) for r in _requests(recorder.of(name), lookups)]
                calls += [_call(mode, c) for c in recorder.calls]
        organization_started = time.perf_counter()
        org_batches = {mode: _organization_run(mode, hubs[mode], members[mode], slack, roles) for mode in hubs}
        timings["organization_runs"] = time.perf_counter() - organization_started
    for _, org_calls, _ in org_batches.values():
        calls += org_calls
    timings["runs"] = time.perf_counter() - mark
    mark = time.perf_counter()
    scenario, policy, mode = REPLAY
    with CallRecorder() as recorder, _quiet():
        replay_run(scenario, policy)
    replayed = recorder.of("events")
    lookups = Lookups(topic_key=stacks[mode].topic_key_arn)
    batch += [(mode, f"{mode}/events", r) for r in _requests(replayed, lookups)]
    calls += [_call(mode, c, replay=scenario) for c in replayed]
    timings["replay"] = time.perf_counter() - mark
    ignore_checks = [
        (mode, role, _tagged_ignore(r))
        for mode, role, r in batch
        if r.action in SERVICE_WRITES and ":service/" in r.resource
    ]
    mark = time.perf_counter()
    key_policies = {arn: policy for stack in stacks.values() for arn, policy in stack.key_policies().items()}
    decisions = evaluate(roles, batch + ignore_checks, key_policies)
    org_decisions: list[Decision] = []
    trust_decisions: list[Decision] = []
    expected_trust: list[str] = []
    for mode, (org_batch, _, trust) in org_batches.items():
        # One evaluation per mode: the member roles' ARNs (their trust policies) are the same in both.
        hub, member = hubs[mode], members[mode]
        principals = {f"hub-{mode}/{n}": organization.hub_principal(hub, n) for n in ORGANIZATION_RUN_IN[f"hub-{mode}"]}
        principals |= {f"member-{mode}/{n}": organization.member_role_arn(n) for n in organization.MEMBER_ROLES[mode]}
        trusts = {organization.member_role_arn(n): member.named_role(n)[1] for n in organization.MEMBER_ROLES[mode]}
        probes = [(f"hub-{mode}", role, r) for role, _, r in trust]
        judged = evaluate(roles, org_batch + probes, {**key_policies, **trusts}, principals)
        org_decisions += judged[: len(org_batch)]
        trust_decisions += judged[len(org_batch) :]
        expected_trust += [expected for _, expected, _ in trust]
    timings["evaluate"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    return {
        "decisions": as_json(decisions[: len(batch)] + org_decisions),
        "trust_checks": [{**d, "expected": e} for d, e in zip(as_json(trust_decisions), expected_trust, strict=True)],
        "ignore_checks": as_json(decisions[len(batch) :]),
        "grants": {role: granted(policies) for role, policies in roles.items()},
        "roles": roles,
        "run_in": {**RUN_IN, **ORGANIZATION_RUN_IN},
        "calls": calls,
        "replay_settings": _replay_binding(stacks[mode]),
        "timings": timings,
    }


# Organization mode: the hub's events function, and the member roles it acts through.
ORGANIZATION_RUN_IN: dict[str, tuple[str, ...]] = {
    **{
        f"hub-{m}": ("events", "sweep", "diagnose") if m == organization.FULL_RUN else ("events",)
        for m in organization.ORGANIZATION_MODES
    },
    **{f"member-{m}": organization.MEMBER_ROLES[m] for m in organization.ORGANIZATION_MODES},
}


def _organization_run(
    mode: str,
    hub: StackTemplate,
    member: StackTemplate,
    slack: tuple[Any, Any],
    roles: dict[str, list[dict[str, Any]]],
) -> tuple[list[tuple[str, str, IamRequest]], list[dict[str, Any]], list[tuple[str, str, IamRequest]]]:
    """The hub's events function on a member's events and its sweep over the member
    (tests/authz/organization.py): the requests to judge (each hub role's own, each member role's), the
    calls, and the trust policy probes."""
    hub_role, member_mode = f"hub-{mode}", f"member-{mode}"
    functions = hub.functions()
    batch: list[tuple[str, str, IamRequest]] = []
    for name in ORGANIZATION_RUN_IN[hub_role]:
        roles[f"{hub_role}/{name}"] = list(functions[name].policies)
        platform = PlatformUse(name, functions[name].log_group_arn, functions[name].event_source_queue_arns)
        batch += [(hub_role, f"{hub_role}/{name}", r) for r in platform.requests()]
    for name in organization.MEMBER_ROLES[mode]:
        roles[f"{member_mode}/{name}"] = list(member.named_role(name)[0])
    with CallRecorder() as recorder, deployed_account(hub, slack) as account, _quiet():
        organization.member_runs(account, full=mode == organization.FULL_RUN)
        for name in ORGANIZATION_RUN_IN[hub_role]:
            own, by_role = organization.split_by_identity(recorder.of(name), _requests, hub)
            principal = organization.hub_principal(hub, name)
            batch += [(hub_role, f"{hub_role}/{name}", organization.with_principal(r, principal)) for r in own]
            for role_name, requests in by_role.items():
                batch += [(member_mode, f"{member_mode}/{role_name}", r) for r in requests]
    calls = [_call(member_mode if c.assumed else hub_role, c) for c in recorder.calls]
    # The events role assumes both member roles; the sweep's and the diagnose function's, the read role only.
    read_only = (organization.READ_ROLE_NAME,)
    assumes = {"events": organization.MEMBER_ROLES[mode], "sweep": read_only, "diagnose": read_only}
    assumes = {f: names for f, names in assumes.items() if f in ORGANIZATION_RUN_IN[hub_role]}
    trust = [
        (f"{hub_role}/{function}", *probe)
        for function, names in assumes.items()
        for name in names
        for probe in organization.trust_probes(name, organization.hub_principal(hub, function))
    ]
    return batch, calls, trust


def _quiet() -> contextlib.AbstractContextManager[Any]:
    return contextlib.redirect_stdout(io.StringIO())


def _requests(calls: list[RecordedCall], lookups: Lookups) -> list[IamRequest]:
    unique: dict[tuple[str, str, str, str], IamRequest] = {}
    for call in calls:
        for request in requests_of(call, lookups):
            unique.setdefault(request.key(), request)
    return list(unique.values())


def _tagged_ignore(request: IamRequest) -> IamRequest:
    return IamRequest(
        request.function,
        request.action,
        request.resource,
        {**request.context, IGNORE_TAG: "ignore"},
        request.call,
        request.call_site,
        "the same call on a service tagged ecs-watchdog:action=ignore",
    )


def _call(mode: str, call: RecordedCall, replay: str | None = None) -> dict[str, Any]:
    return {
        "mode": mode,
        "function": call.function,
        "action": f"{call.iam_prefix}:{call.operation}",
        "service": call.service,
        "operation": call.operation,
        "call_site": call.call_site,
        "summary": call.summary(),
        "replay": replay,
        "assumed": list(call.assumed) if call.assumed else None,
    }


def _replay_binding(stack: StackTemplate) -> dict[str, Any]:
    """The replay's settings (sandbox.provision) beside the events function's, from the template."""
    deployed = Settings.from_environment({k: v for k, v in stack.functions()["events"].environment.items() if v})
    with sandbox.local_account() as local:
        replayed = local.settings
    fields = ("topic_arn", "state_table_name", "slack_secret_name", "parked_records_queue_url")
    return {f: [getattr(replayed, f), getattr(deployed, f)] for f in fields}


__all__ = ["Decision", "authorization_report"]
