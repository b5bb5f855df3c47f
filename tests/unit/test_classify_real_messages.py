"""Every verbatim real-world stop message in fixtures/stop_messages.json lands in its category.

Each case names its source (AWS documentation, GitHub issue, forum answer, or a seed incident).
"""

from __future__ import annotations

from collections import Counter

import pytest

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.classify.categories import CATEGORIES
from tests.stop_cases import load_cases

CASES, TEXTLESS = load_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_real_message_is_classified_into_its_category(case):
    result = classify_stop(case.stop, case.essential)
    assert result.category == case.expected, f"{case.id} ({case.source}) → rule {result.rule}"


def test_corpus_has_eighty_messages_covering_every_real_category():
    assert len(CASES) >= 80
    per_category = Counter(c.expected for c in CASES)
    # `unknown` is what no real message should stay: test_classify_behaviour covers it with made-up text.
    assert set(per_category) == set(CATEGORIES) - {"unknown"}, f"missing: {set(CATEGORIES) - set(per_category)}"


def test_every_case_cites_a_source():
    assert all(c.source.startswith(("http", "seed")) for c in CASES)


def test_seed_messages_are_in_the_corpus():
    seeds = [c for c in CASES if "seed" in c.source]
    texts = " ".join((c.stop.stopped_reason or "") for c in seeds)
    assert "Fargate requires task definition to have execution role ARN to support log driver awslogs" in texts
    assert "ResourceInitializationError: unable to pull secrets or registry auth" in texts
    assert "Task failed ELB health checks" in texts


# The error families of "Amazon ECS stopped tasks error messages" (developer guide,
# stopped-task-error-codes.html) and the TaskStopCode values of the ECS API.
DOCUMENTED_ERROR_FAMILIES = (
    "ResourceInitializationError",
    "ResourceNotFoundException",
    "SpotInterruptionError",
    "InternalError",
    "OutOfMemoryError",
    "ContainerRuntimeError",
    "ContainerRuntimeTimeoutError",
    "CannotStartContainerError",
    "CannotStopContainerError",
    "CannotInspectContainerError",
    "CannotCreateVolumeError",
    "CannotPullContainer",
)
STOP_CODES = (
    "TaskFailedToStart",
    "EssentialContainerExited",
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
    "InfrastructureHealth",
)


def _texts(case):
    return [case.stop.stopped_reason or ""] + [c.reason or "" for c in case.stop.containers]


@pytest.mark.parametrize("family", DOCUMENTED_ERROR_FAMILIES)
def test_every_documented_error_family_has_a_case(family):
    with_family = [c for c in CASES if any(t.startswith(family) or f" {family}" in t for t in _texts(c))]
    assert with_family, f"no fixture case quotes a {family} message"


@pytest.mark.parametrize("stop_code", STOP_CODES)
def test_every_stop_code_has_a_case(stop_code):
    assert any(c.stop.stop_code == stop_code for c in CASES), f"no fixture case has stopCode {stop_code}"


def test_a_sidecar_that_cannot_be_pulled_is_named_as_the_cause():
    case = next(c for c in CASES if c.id == "image-sidecar-pull-not-found-1")
    result = classify_stop(case.stop, case.essential)
    assert (result.category, result.container) == ("image", "datadog-agent")
    assert result.image == "public.ecr.aws/datadog/agent:7.99.0"
