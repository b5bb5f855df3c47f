"""The rule table is data an operator edits: mistakes in it fail loudly, naming the rule."""

from __future__ import annotations

import pytest

from ecs_watchdog.classify.categories import CATEGORIES
from ecs_watchdog.classify.rules import RuleTableError, default_rules, parse_rules

VALID = {"id": "r1", "category": "image", "title": "t", "summary": "s", "next_steps": ["n"], "text": "x"}
CATCH_ALL = {"id": "last", "category": "unknown", "title": "t", "summary": "s", "next_steps": ["n"]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "imgae"}, "category 'imgae' is not one of"),
        ({"txt": "x"}, r"unknown key\(s\) \['txt'\]"),
        ({"text": "(unclosed"}, "text is not a valid regular expression"),
    ],
)
def test_a_bad_rule_is_named_in_the_error(change, message):
    with pytest.raises(RuleTableError, match=rf"rule #1 \(r1\): {message}"):
        parse_rules({"rule": [{**VALID, **change}, CATCH_ALL]})


def test_duplicate_ids_and_early_catch_alls_are_rejected():
    with pytest.raises(RuleTableError, match="duplicate id"):
        parse_rules({"rule": [VALID, VALID, CATCH_ALL]})
    with pytest.raises(RuleTableError, match="only the last rule may match everything"):
        parse_rules({"rule": [CATCH_ALL | {"id": "early"}, VALID, CATCH_ALL]})


def test_shipped_table_is_valid_and_reaches_every_category():
    rules = default_rules()
    assert len({r.id for r in rules}) == len(rules)
    assert {r.category for r in rules} == set(CATEGORIES)
    assert rules[-1].id == "unknown"
