"""Hypothesis strategies for every ECS event the watchdog reads: valid ones, and every way one can be wrong.

Valid events draw their names from small pools (three services, a few task ids and deployments, times
within two hours), so a sequence of them interacts: duplicates, loops that open incidents, completions
that resolve them. Broken ones come from mutating valid ones (a field deleted, a value of the wrong
type, a lone surrogate, a huge string, deep nesting, an unknown detail-type, a naive or far-future
time) and from mutating their JSON text (truncated, nested past any parser's depth, not an object).

Speed decides the shape: a hypothesis draw costs about 0.1 ms, and an event has thirty fields. So
hypothesis draws the event type, one free text (its unicode is where hypothesis is best) and a seed;
the seed picks every other field from the pools below. A failing case still reproduces exactly (the
profile is derandomized and prints its blob); it shrinks the text and the choices, not the seed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from ecs_watchdog.incidents.contract import DeploymentSnapshot, ServiceSnapshot
from ecs_watchdog.incidents.service_action_rules import SERVICE_ACTION_RULES
from tests.stop_cases import CASES_FILE

HOME = ("123456789012", "us-east-1")
T0 = datetime(2025, 7, 21, 8, 0, tzinfo=UTC)
SERVICES = ("api", "web", "worker")
DEPLOYMENTS = ("ecs-svc/2000000000000000002", "ecs-svc/1000000000000000001")
STOP_CODES = (
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
    "InfrastructureHealth",
)
REASONS = tuple(c["stoppedReason"] for c in json.loads(CASES_FILE.read_text()) if c.get("stoppedReason"))
DETAIL_TYPES = ("ECS Task State Change", "ECS Deployment State Change", "ECS Service Action", "ECS Hook State Change")
UNKNOWN_DETAIL_TYPES = ("ECS Container Instance State Change", "AWS API Call via CloudTrail", "ecs task state change")

# -- odd values --------------------------------------------------------------------------------------
LONE_SURROGATES = ("\ud800", "svc-\udfff", "\udc00tail")  # json.dumps writes them as \ud800 escapes
HUGE = ("x" * 2_001, "é" * 3_001, "€" * 40_000, "x" * 450_000)  # past MAX_QUOTED, Slack, SNS, a DynamoDB item
ODD_TEXT = (*LONE_SURROGATES, "", " ", "ünïcødé ✓ 😀", "a/b:c", "\u0000", "null", "-1", "service:", "x" * 300)
ODD_TIMES = (
    "2025-07-21T08:00:00",  # naive: no zone
    "2025-07-21T13:30:00+05:30",
    "2100-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",  # far future
    "0001-01-01T00:00:00Z",
    "2009-12-31T23:59:59Z",
    "2025-02-30T00:00:00Z",
    "2025-07-21T08:00:00.123456789Z",
    "yesterday",
    "",
    0,
    1753084800,
    1753084800000,
    -1,
    1e20,
    float("nan"),
    None,
)
ODD_NUMBERS = (None, -1, 2**31, 2**63, 10**30, 1.5, float("inf"), "3", True)
DEEP = "\u0000deep"  # a marker value, replaced in the JSON text by nesting no parser reads
JUNK: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**64,
    1e308,
    float("nan"),
    [],
    {},
    [1, "a"],
    {"a": "b"},
    DEEP,
    *ODD_TEXT,
    *HUGE,
)


class Picker:
    """Field values from a seed: mostly the usual ones (so the events of a sequence meet), sometimes odd."""

    def __init__(self, seed: int, text: str) -> None:
        self.rng = random.Random(seed)
        self.text = text  # hypothesis' own text, for whichever free-text field asks first

    def usual(self, *values: Any) -> Any:
        """One of `values` nineteen times in twenty (about half the events are then wholly usual)."""
        return self.rng.choice(values) if self.rng.random() < 0.95 else self.odd()

    def odd(self) -> str:
        roll = self.rng.random()
        # Huge strings are rare: each costs milliseconds to encode, parse and store.
        return self.rng.choice(HUGE) if roll < 0.04 else self.rng.choice(ODD_TEXT) if roll < 0.8 else self.free()

    def free(self) -> str:
        return self.text if self.rng.random() < 0.7 else self.rng.choice(REASONS)

    def words(self) -> str:
        roll = self.rng.random()
        return self.rng.choice(REASONS) if roll < 0.4 else self.free() if roll < 0.8 else self.odd()

    def time(self) -> Any:
        if self.rng.random() < 0.93:
            return (T0 + timedelta(seconds=self.rng.randint(0, 120 * 60))).isoformat().replace("+00:00", "Z")
        return self.rng.choice(ODD_TIMES)

    def number(self) -> Any:
        return self.rng.randint(-2, 300) if self.rng.random() < 0.93 else self.rng.choice(ODD_NUMBERS)

    def maybe(self, value: Any) -> Any:
        return value if self.rng.random() < 0.85 else None


def _where(p: Picker) -> dict[str, str]:
    account, region = p.usual(HOME[0], HOME[0], "999999999999"), p.usual(HOME[1], HOME[1], "eu-west-1")
    cluster, service = p.usual("prod"), p.usual(*SERVICES)
    prefix = f"arn:aws:ecs:{region}:{account}"
    forms = [f"{prefix}:service/{cluster}/{service}"] * 4 + [
        f"{prefix}:service/{service}",  # the old form: the cluster comes from detail.clusterArn
        f"{prefix}:task/{cluster}/{service}",
        service,
    ]
    return {
        "account": account,
        "region": region,
        "cluster": cluster,
        "service": service,
        "prefix": prefix,
        "cluster_arn": f"{prefix}:cluster/{cluster}",
        "service_arn": p.rng.choice(forms),
    }


def _envelope(p: Picker, detail_type: str, at: dict[str, str], resources: list[Any], detail: Any) -> dict:
    return {
        "version": "0",
        "id": f"00000000-0000-4000-8000-{p.rng.randrange(10**12):012d}" if p.rng.random() < 0.97 else p.odd(),
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": at["account"],
        "time": p.time(),
        "region": at["region"],
        "resources": resources,
        "detail": detail,
    }


def _container(p: Picker) -> dict[str, Any]:
    container: dict[str, Any] = {"name": p.usual("app", "envoy", "log_router")}
    if p.rng.random() < 0.8:
        container["exitCode"] = p.maybe(p.number())
    if p.rng.random() < 0.6:
        container["reason"] = p.maybe(p.words())
    if p.rng.random() < 0.6:
        container["image"] = p.usual("123456789012.dkr.ecr.us-east-1.amazonaws.com/api:v9")
    if p.rng.random() < 0.6:
        container["lastStatus"] = p.usual("STOPPED")
    return container


def task_state_change(p: Picker) -> dict:
    at = _where(p)
    task_id = f"{p.rng.randint(0, 40):032x}" if p.rng.random() < 0.95 else p.odd()
    task_arn = f"{at['prefix']}:task/{at['cluster']}/{task_id}"
    detail = {
        "taskArn": task_arn,
        "lastStatus": p.usual("STOPPED", "STOPPED", "STOPPED", "STOPPED", "RUNNING", "PENDING"),
        "desiredStatus": "STOPPED",
        "group": p.usual(*[f"service:{at['service']}"] * 6, "family:batch"),
        "clusterArn": at["cluster_arn"],
        "taskDefinitionArn": f"{at['prefix']}:task-definition/app:{p.rng.randint(1, 3)}",
        "startedBy": p.usual(*DEPLOYMENTS),
        "stopCode": p.maybe(p.usual(*STOP_CODES)),
        "stoppedReason": p.maybe(p.words()),
        "containers": [_container(p) for _ in range(p.rng.randint(0, 3))],
        "launchType": p.rng.choice(["FARGATE", "EC2"]),
        "stoppedAt": p.time(),
        "version": p.number(),
    }
    return _envelope(p, DETAIL_TYPES[0], at, [task_arn], detail)


def deployment_state_change(p: Picker) -> dict:
    at = _where(p)
    detail = {
        "eventType": p.rng.choice(["INFO", "ERROR"]),
        "eventName": p.usual(*[f"SERVICE_DEPLOYMENT_{s}" for s in ("IN_PROGRESS", "COMPLETED", "FAILED")]),
        "deploymentId": p.usual(*DEPLOYMENTS),
        "updatedAt": p.time(),
        "reason": p.words(),
    }
    return _envelope(p, DETAIL_TYPES[1], at, [at["service_arn"]], detail)


def service_action(p: Picker) -> dict:
    at = _where(p)
    detail = {
        "eventType": p.rng.choice(["INFO", "WARN", "ERROR"]),
        "eventName": p.usual(*sorted(SERVICE_ACTION_RULES)),
        "clusterArn": at["cluster_arn"],
        "createdAt": p.time(),
        "reason": p.words(),
        "desiredCount": p.number(),
        "taskArns": [p.odd() for _ in range(p.rng.randint(0, 2))],
    }
    return _envelope(p, DETAIL_TYPES[2], at, [at["service_arn"]], detail)


def hook_state_change(p: Picker) -> dict:
    at = _where(p)
    deployment_arn = f"{at['prefix']}:service-deployment/{at['cluster']}/{at['service']}/x"
    detail = {
        "hookId": p.usual("hook-1"),
        "hookType": "PAUSE",
        "lifecycleStage": p.rng.choice(["PRE_SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT"]),
        "hookStatus": "HOOK_AWAITING_ACTION",
        "expiresAt": p.time(),
        "clusterArn": at["cluster_arn"],
        "serviceArn": at["service_arn"],
        "serviceDeploymentArn": deployment_arn,
    }
    return _envelope(p, DETAIL_TYPES[3], at, [deployment_arn], detail)


BUILDERS: dict[str, Callable[[Picker], dict]] = {
    "task": task_state_change,
    "deployment": deployment_state_change,
    "service action": service_action,
    "hook": hook_state_change,
}
seeds = st.integers(0, 2**32)
texts = st.text(max_size=24)


def _events_of(*kinds: str) -> st.SearchStrategy[dict]:
    return st.builds(lambda kind, seed, text: BUILDERS[kind](Picker(seed, text)), st.sampled_from(kinds), seeds, texts)


valid_events = _events_of("task", "task", "deployment", "service action", "hook")
in_episode = _events_of("task", "task", "task", "deployment", "service action")  # what a service's episode is made of


# -- breaking them ---------------------------------------------------------------------------------
def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _junk(rng: random.Random) -> Any:
    return rng.choice(JUNK) if rng.random() < 0.9 else nested(rng.randint(1, 200))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if len(prefix) < 4 and isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif len(prefix) < 4 and isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def mutate(event: dict, seed: int) -> dict:
    """The event with one to three things wrong with it: a field gone, a wrong value, an unknown type."""
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(event))
        parent: Any = event
        for step in path[:-1]:
            parent = parent[step]
        action = rng.choice(["delete", "replace", "replace", "retype"])
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "retype":
            event["detail-type"] = rng.choice(UNKNOWN_DETAIL_TYPES) if rng.random() < 0.7 else _junk(rng)
        else:
            parent[path[-1]] = _junk(rng)
    return event


mutated_events = st.builds(mutate, valid_events, seeds)


def json_text(event: Any, depth: int = 5_000) -> str:
    """The event as SQS would carry it: JSON text (lone surrogates become \\ud800 escapes)."""
    return json.dumps(event).replace(json.dumps(DEEP), "[" * depth + "]" * depth)


def _broken(event: dict, seed: int, text: str) -> str:
    rng = random.Random(seed)
    breakage = rng.choice(["truncated", "truncated", "not an object", "deep list", "deep object", "text"])
    depth = rng.randint(1_000, 100_000)
    if breakage == "truncated":
        whole = json_text(event)
        return whole[: rng.randrange(len(whole))]
    if breakage == "not an object":
        return rng.choice(["null", "[]", '"aws.ecs"', "17", "{}", '{"source": "aws.ecs"}'])
    if breakage == "deep list":
        return "[" * depth + "]" * depth
    if breakage == "deep object":
        return '{"a":' * depth + "1" + "}" * depth
    return text


broken_texts = st.builds(_broken, valid_events, seeds, texts)  # JSON text that is not a whole event
events = st.one_of(valid_events, valid_events, mutated_events)  # as dicts (console payloads)
bodies = st.one_of(events.map(json_text), events.map(json_text), broken_texts)  # as SQS record bodies
junk = st.builds(lambda seed: _junk(random.Random(seed)), seeds)

# -- what DescribeServices says --------------------------------------------------------------------
snapshots = st.one_of(
    st.none(),
    st.builds(
        lambda deployment, revision, state, threshold: ServiceSnapshot(
            deployments=(
                DeploymentSnapshot(
                    deployment,
                    f"arn:aws:ecs:{HOME[1]}:{HOME[0]}:task-definition/app:{revision}",
                    "PRIMARY",
                    state,
                    T0 - timedelta(days=1),
                ),
            ),
            threshold_override=threshold,
        ),
        st.sampled_from(DEPLOYMENTS),
        st.integers(1, 3),
        st.sampled_from(["COMPLETED", "IN_PROGRESS", "FAILED"]),
        st.sampled_from([None, 1, 2]),
    ),
)
