"""Replay real captured events (an EventBridge archive export, one envelope per line) through the watchdog.

The archive may come from any account and region: the sandbox runs AS that account (moto's
`MOTO_ACCOUNT_ID`) in that region, so the events keep their own ARNs and the messages name the
user's own resources; nothing is rewritten. Events of other accounts or regions (a second watchdog's)
are skipped and counted. The watchdog always runs in dry-run here: it sees the events in their
recorded order and times, in batches like the live queue's, against a moto account rebuilt from what
the events name (clusters, services, task definitions), so its reads find the resources. Every
state-changing ECS call it makes is recorded and refused; what it reports it would have done comes from its optional
`intended_actions()`. No simulator is involved: nothing here invents events.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel

from ecs_watchdog.classify import failure_category
from ecs_watchdog.replay.mirror import new_session
from ecs_watchdog.replay.offline_aws import offline_aws
from ecs_watchdog.replay.recorded_summary import home_of, summarize
from ecs_watchdog.replay.runner import BATCH_SIZE, BATCH_WINDOW_SECONDS
from ecs_watchdog.replay.sandbox import ACCOUNT
from ecs_watchdog.replay.scenario import ScenarioError
from ecs_watchdog.replay.seam import WatchdogFactory
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Envelopes from a JSON-lines file; a bad line raises ScenarioError naming file and line."""
    events = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            envelope = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{path}:{number}: not a JSON object ({exc.msg})") from exc
        if not isinstance(envelope, dict) or "detail-type" not in envelope or "detail" not in envelope:
            raise ScenarioError(f"{path}:{number}: not an EventBridge envelope (needs 'detail-type' and 'detail')")
        events.append(envelope)
    return events


def _when(envelope: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(envelope.get("time", "1970-01-01T00:00:00Z")).replace("Z", "+00:00"))


def _service_of(envelope: Mapping[str, Any]) -> str | None:
    group = envelope["detail"].get("group", "")
    if group.startswith("service:"):
        return str(group.split(":", 1)[1])
    for arn in envelope.get("resources", []):
        if ":service/" in arn:
            return str(arn.rsplit("/", 1)[-1])
    return None


def _build_account(events: list[dict[str, Any]], region: str) -> None:
    """Clusters, task definitions and services the events name, so the watchdog's reads succeed."""
    session = new_session(region)
    ecs = session.client("ecs")
    clusters: set[str] = set()
    services: dict[tuple[str, str], str] = {}
    for envelope in events:
        detail = envelope["detail"]
        cluster = str(detail.get("clusterArn", "")).rsplit("/", 1)[-1]
        service = _service_of(envelope)
        if not cluster:
            for arn in envelope.get("resources", []):
                if ":service/" in arn and arn.count("/") == 2:
                    cluster = arn.split("/")[1]
        if cluster:
            clusters.add(cluster)
        definition = str(detail.get("taskDefinitionArn", "")).rsplit("/", 1)[-1]
        known = services.get((cluster, service), "") if cluster and service else None
        if cluster and service and not known:
            services[(cluster, service)] = definition
    for cluster in sorted(clusters):
        ecs.create_cluster(clusterName=cluster)
    registered: dict[str, int] = {}
    for (cluster, service), definition in sorted(services.items()):
        family, _, number = (definition or f"{service}:1").partition(":")
        revision = int(number) if number.isdigit() else 1
        while registered.get(family, 0) < revision:
            ecs.register_task_definition(
                family=family, containerDefinitions=[{"name": family, "image": "recorded", "memory": 512}]
            )
            registered[family] = registered.get(family, 0) + 1
        ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=f"{family}:{revision}", desiredCount=1)


def replay_recorded(path: str | Path, watchdog_factory: WatchdogFactory | None = None) -> dict[str, Any]:
    """Feed the file's events through the watchdog in dry-run; return findings and would-be actions."""
    read = read_events(path)
    account, region = home_of(read)
    events = [e for e in read if (str(e.get("account", "")), str(e.get("region", ""))) == (account, region)]
    account = account if account.isdigit() and len(account) == 12 else ACCOUNT
    region = region or "us-east-1"
    blocked: list[dict[str, Any]] = []
    now = {"at": _when(events[0]) if events else datetime(1970, 1, 1, tzinfo=UTC)}

    def refuse(model: OperationModel, params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name.startswith(("Describe", "List", "Get")):
            return None
        request = json.loads(params.get("body") or b"{}")
        service = str(request.get("service", request.get("resourceArn", ""))).rsplit("/", 1)[-1] or None
        blocked.append(
            {
                "time": now["at"].isoformat(),
                "service": service,
                "action": model.name,
                "detail": json.dumps(request, sort_keys=True)[:200],
            }
        )
        if model.name == "ContinueServiceDeployment" and request.get("action", "CONTINUE") == "CONTINUE":
            # A dry-run watchdog fails open on PAUSE hooks: recorded, and answered as ECS would take it.
            ok = {
                "serviceDeploymentArn": request.get("serviceDeploymentArn", ""),
                "ResponseMetadata": {"HTTPStatusCode": 200},
            }
            return AWSResponse("https://ecs.replay.invalid/", 200, {}, None), ok
        parsed = {
            "Error": {
                "Code": "DryRunOperation",
                "Message": f"{model.name} blocked: recorded replay is dry-run.",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "replay-0000", "HTTPHeaders": {}},
        }
        return AWSResponse("https://ecs.replay.invalid/", 400, {}, None), parsed

    if watchdog_factory is None:
        from ecs_watchdog.replay.watchdog_adapter import make_watchdog  # type: ignore[import-not-found]

        watchdog_factory = make_watchdog
    categories: dict[str, Counter[str]] = {}
    failed: Counter[str] = Counter()
    with offline_aws({"MOTO_ACCOUNT_ID": account}):
        _build_account(events, region)
        session = new_session(region)
        # The reads moto lacks, answered from its own service; StopServiceDeployment stays refused below.
        ServiceDeploymentCalls(account, region).install(
            session, ("ListServiceDeployments", "DescribeServiceDeployments")
        )
        session.events.register("before-call.ecs", refuse, unique_id="ecs-watchdog-recorded-replay")
        watchdog = watchdog_factory(session, lambda: now["at"], True)
        batch: list[dict[str, Any]] = []
        for envelope in events:
            at = _when(envelope)
            if batch and ((at - _when(batch[0])).total_seconds() > BATCH_WINDOW_SECONDS or len(batch) >= BATCH_SIZE):
                watchdog.deliver(batch)
                batch = []
            now["at"] = at
            batch.append(envelope)
            service = _service_of(envelope)
            category = failure_category(envelope) if service else None
            if service and category:
                failed[service] += 1
                categories.setdefault(service, Counter())[category] += 1
        try:
            if batch:
                watchdog.deliver(batch)
            messages = watchdog.messages()
            intended: list[Any] = list(getattr(watchdog, "intended_actions", lambda: [])())
        finally:
            close = getattr(watchdog, "close", None)
            if close is not None:
                close()
    actions = [
        {
            "time": (a.get("at") if isinstance(a, Mapping) else getattr(a, "at", "")) or "",
            "service": a.get("service") if isinstance(a, Mapping) else getattr(a, "service", None),
            "action": str(a.get("action") if isinstance(a, Mapping) else getattr(a, "action", "")),
            "detail": str(a.get("detail") if isinstance(a, Mapping) else getattr(a, "detail", "")),
        }
        for a in intended
    ] + blocked
    for action in actions:
        if isinstance(action["time"], datetime):
            action["time"] = action["time"].isoformat()
    names = sorted(set(failed) | {s for e in events if (s := _service_of(e))})
    result = {
        "source": str(path),
        "policy": "watchdog-dry-run",
        "events": len(events),
        "notifications": [{"time": m.at.isoformat(), "channel": m.channel, "text": m.text} for m in messages],
        "actions": actions,
        "services": {
            name: {
                "failed_tasks": failed[name],
                "categories": dict(sorted(categories.get(name, Counter()).items())),
            }
            for name in names
        },
    }
    result["summary"] = summarize(events, len(read) - len(events), account, region, result)
    return result
