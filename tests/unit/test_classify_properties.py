"""Property tests: the classifier is total and deterministic over any event shape or text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ecs_watchdog.classify import classify_envelope, classify_stop
from ecs_watchdog.classify.categories import CATEGORIES
from ecs_watchdog.events import MalformedEvent
from ecs_watchdog.models import ContainerStop, Stop

texts = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.sampled_from(
        [
            "CannotPullContainerError: ",
            "ResourceInitializationError: unable to pull secrets or registry auth: ",
            "Essential container in task exited",
            "Task failed ELB health checks in (target-group ",
            "{image}",
            "{0}",
        ]
    ),
)
stop_codes = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "TaskFailedToStart",
            "EssentialContainerExited",
            "UserInitiated",
            "ServiceSchedulerInitiated",
            "SpotInterruption",
            "TerminationNotice",
            "InfrastructureHealth",
        ]
    ),
)
containers = st.lists(
    st.builds(
        ContainerStop,
        name=st.text(min_size=1, max_size=20),
        exit_code=st.one_of(st.none(), st.integers(-(2**31), 2**31)),
        reason=texts,
        image=st.one_of(st.none(), st.text(max_size=80)),
    ),
    max_size=4,
)
stops = st.builds(
    Stop,
    task_arn=st.text(max_size=120),
    region=st.text(max_size=20),
    group=st.text(max_size=40),
    stop_code=stop_codes,
    stopped_reason=texts,
    containers=containers.map(tuple),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(stops)
def test_any_stop_gets_a_classification_and_the_same_one_twice(stop):
    first, second = classify_stop(stop), classify_stop(stop)
    assert first == second
    assert first.category in CATEGORIES
    assert first.summary and first.next_steps and first.runbook


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "taskArn",
                "lastStatus",
                "stopCode",
                "stoppedReason",
                "containers",
                "group",
                "version",
                "stoppedAt",
                "detail-type",
                "source",
                "detail",
            ]
        ),
        json_values,
        max_size=8,
    )
)
def test_any_event_shape_gives_a_result_or_a_malformed_event_error(raw):
    try:
        result = classify_envelope(raw)
    except MalformedEvent as error:
        assert str(error)
    else:
        assert result.category in CATEGORIES
        assert json.dumps(result.model_dump(mode="json"))
