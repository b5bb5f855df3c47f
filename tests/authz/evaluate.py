"""Evaluate recorded calls against the synthesized roles with a real IAM policy evaluator
(@cloud-copilot/iam-simulate, one node process per batch), and say what is missing and what is unused."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.authz.iam_requests import IamRequest
from tests.authz.template import ACCOUNT

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("simulate.mjs")


def node() -> str:
    """The project's pinned Node (node_modules/node, from package-lock.json), else the one on PATH."""
    pinned = ROOT / "node_modules" / "node" / "bin" / "node"
    found = str(pinned) if pinned.exists() else shutil.which("node")
    if not found:
        raise RuntimeError("tests/authz needs Node.js and @cloud-copilot/iam-simulate: run scripts/bootstrap.sh")
    return found


@dataclass(frozen=True)
class Decision:
    """A request, the role it was evaluated against and what the evaluator said."""

    mode: str
    request: IamRequest
    decision: str  # Allowed | ExplicitlyDenied | ImplicitlyDenied | Invalid
    allowed_by: tuple[str, ...]
    denied_by: tuple[str, ...]
    errors: Any = None

    def explain(self) -> str:
        r = self.request
        why = (
            f"denied by statement {', '.join(self.denied_by)}"
            if self.denied_by
            else f"invalid request: {json.dumps(self.errors)[:300]}"
            if self.decision == "Invalid"
            else f"no statement of the {r.function} role allows {r.action} on this resource"
        )
        context = f" with {json.dumps(r.context, sort_keys=True)}" if r.context else ""
        site = f" at {r.call_site}" if r.call_site else ""
        return (
            f"[{self.mode}] {r.function}: {r.call}{site} needs {r.action} on {r.resource}{context} "
            f"({r.because}): {self.decision}, {why}"
        )


def evaluate(
    roles: dict[str, list[dict[str, Any]]],
    requests: Iterable[tuple[str, str, IamRequest]],
    resource_policies: dict[str, dict[str, Any]] | None = None,
    principals: dict[str, str] | None = None,
) -> list[Decision]:
    """Each (mode, role, request) evaluated against `roles[role]` (and the resource's own policy where
    it has one that decides, a KMS key's, a member role's trust policy); one node process for the batch.
    `principals`: the ARN a role key stands for when it is not a role of the test account (organization
    mode); an AssumeRole request is made by its aws:PrincipalArn, on a role in the account its ARN names."""
    batch = list(requests)
    principals = principals or {}

    def principal(role: str, request: IamRequest) -> dict[str, str]:
        named = request.context.get("aws:PrincipalArn") or principals.get(role)
        found = {"principal": str(named)} if named else {}
        if request.action == "sts:AssumeRole":
            found["resourceAccount"] = request.resource.split(":")[4]
        elif role in principals:
            found["resourceAccount"] = principals[role].split(":")[4]
        return found

    payload = {
        "account": ACCOUNT,
        "roles": roles,
        "resourcePolicies": resource_policies or {},
        "requests": [
            {"role": role, "action": r.action, "resource": r.resource, "context": r.context, **principal(role, r)}
            for _, role, r in batch
        ],
    }
    done = subprocess.run(
        [node(), str(SCRIPT)], input=json.dumps(payload), capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"iam-simulate failed: {done.stderr[-2000:]}")
    results = json.loads(done.stdout)
    return [
        Decision(mode, request, r["decision"], tuple(r["allowedBy"]), tuple(r["deniedBy"]), r["errors"])
        for (mode, _, request), r in zip(batch, results, strict=True)
    ]


def granted(policies: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(statement id, action) of every Allow statement's actions; a statement without Sid by its index."""
    found: list[tuple[str, str]] = []
    for policy in policies:
        for index, statement in enumerate(policy["Statement"]):
            if statement["Effect"] != "Allow":
                continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            found += [(statement.get("Sid", str(index + 1)), a) for a in actions]
    return found


def as_json(decisions: list[Decision]) -> list[dict[str, Any]]:
    return [{**asdict(d), "request": asdict(d.request)} for d in decisions]


def from_json(items: list[dict[str, Any]]) -> list[Decision]:
    return [
        Decision(
            i["mode"],
            IamRequest(**i["request"]),
            i["decision"],
            tuple(i["allowed_by"]),
            tuple(i["denied_by"]),
            i["errors"],
        )
        for i in items
    ]
