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
    result = classify_stop(case.stop)
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
