"""The documented payloads of tests/fixtures/events, moved into the sandbox's account, region, cluster and
service, and ECS's side of the operations moto 5.2.5 lacks that the gate needs (ContinueServiceDeployment,
DescribeServiceRevisions), answered through `before-call` hooks on the sandbox's session."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from tests.conftest import load_event
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, td

Moves = tuple[tuple[str, str], ...]


def doc_service(service: str = SERVICE) -> Moves:
    """The service-deployment and service-action pages' samples: account 111122223333, default/servicetest."""
    return (
        (":111122223333:", f":{ACCOUNT}:"),
        ('"111122223333"', f'"{ACCOUNT}"'),
        ("us-west-2", REGION),
        ("cluster/default", f"cluster/{CLUSTER}"),
        ("default/servicetest", f"{CLUSTER}/{service}"),
    )


def doc_task(service: str = SERVICE) -> Moves:
    """The stopped-task sample: account 0123456789, eu-west-1, cluster Features, service Webapp."""
    return (
        (":0123456789:", f":{ACCOUNT}:"),
        ('"0123456789"', f'"{ACCOUNT}"'),
        ("eu-west-1", REGION),
        ("Features", CLUSTER),
        ("service:Webapp", f"service:{service}"),
    )


def doc_hook(service: str = SERVICE) -> Moves:
    """The hook state change sample: us-west-2, my-cluster/my-service."""
    return (("us-west-2", REGION), ("my-cluster", CLUSTER), ("my-service", service))


def doc_lambda_hook(service: str = SERVICE) -> Moves:
    """The Lambda hook page's example: account 1234567890, us-west-2, myCluster/myService."""
    return ((":1234567890:", f":{ACCOUNT}:"), ("us-west-2", REGION), ("myCluster", CLUSTER), ("myService", service))


def console(service: str = SERVICE) -> Moves:
    """infra/console_events.py's examples: my-cluster/my-service."""
    return (("my-cluster", CLUSTER), ("my-service", service))


TARGET_REVISION_ID = "01275892"  # the Lambda hook page's target service revision


def relocated(name: str, moves: Moves, **detail: Any) -> dict[str, Any]:
    """The fixture's event with its names moved (plain text replacement), and `detail` fields overridden."""
    text = json.dumps(load_event(name))
    for old, new in moves:
        text = text.replace(old, new)
    event = json.loads(text)
    if detail:
        event["detail"].update(detail)
    return event


def moved(event: dict[str, Any], moves: Moves) -> dict[str, Any]:
    text = json.dumps(event)
    for old, new in moves:
        text = text.replace(old, new)
    return json.loads(text)


def _answer(status: int, body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("https://ecs.local", status, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}


@dataclass
class PausedHooks:
    """ECS's side of PAUSE hooks: ContinueServiceDeployment is taken once per hook while it awaits action,
    then refused with InvalidParameterException, as ECS (and the simulator's scheduler model) refuses it.
    `throttle` makes the next call fail with ThrottlingException instead."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answered: set[tuple[str, str]] = field(default_factory=set)
    throttle: int = 0

    def reset(self) -> None:
        self.calls.clear()
        self.answered.clear()
        self.throttle = 0

    def install(self, session: boto3.Session) -> PausedHooks:
        session.events.register(
            "before-call.ecs.ContinueServiceDeployment", self._continue, unique_id="test-paused-hooks"
        )
        session.events.register("after-call.ecs.DescribeServices", self._current, unique_id="test-current-deployment")
        return self

    @staticmethod
    def _current(parsed: dict[str, Any], **_: Any) -> None:
        """DescribeServices' `currentServiceDeployment` (moto 5.2.5 leaves it out): the documented hook's
        deployment, moved to each service — what ECS names while that deployment is paused."""
        for service in parsed.get("services", []):
            hook = relocated("hook_state_change_awaiting_action", doc_hook(service["serviceName"]))
            service["currentServiceDeployment"] = hook["detail"]["serviceDeploymentArn"]

    def _continue(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params.get("body") or b"{}")
        self.calls.append(request)
        if self.throttle:
            self.throttle -= 1
            return _answer(400, {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}})
        hook = (request["serviceDeploymentArn"], request["hookId"])
        if hook in self.answered:
            message = f"Service deployment is not awaiting action for lifecycle hook {request['hookId']}."
            return _answer(400, {"Error": {"Code": "InvalidParameterException", "Message": message}})
        self.answered.add(hook)
        return _answer(200, {"serviceDeploymentArn": request["serviceDeploymentArn"]})


@dataclass
class ServiceRevisionsOf:
    """ECS's DescribeServiceRevisions: the documented target revision (of any service) runs api:`revision`."""

    revision: int = 6
    calls: list[dict[str, Any]] = field(default_factory=list)

    def install(self, session: boto3.Session) -> ServiceRevisionsOf:
        session.events.register(
            "before-call.ecs.DescribeServiceRevisions", self._describe, unique_id="test-service-revisions"
        )
        return self

    def _describe(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params.get("body") or b"{}")
        self.calls.append(request)
        arns = request["serviceRevisionArns"]
        known = [
            {"serviceRevisionArn": arn, "taskDefinition": td(self.revision)}
            for arn in arns
            if arn.endswith(f"/{TARGET_REVISION_ID}")
        ]
        failures = [{"arn": arn, "reason": "MISSING"} for arn in arns if not arn.endswith(f"/{TARGET_REVISION_ID}")]
        return _answer(200, {"serviceRevisions": known, "failures": failures})
