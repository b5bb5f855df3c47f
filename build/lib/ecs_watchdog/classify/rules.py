"""Load the stop-reason rule table (rules.toml) into validated, compiled rules."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ecs_watchdog.classify.categories import CATEGORIES

RULES_FILE = Path(__file__).with_name("rules.toml")
_ALLOWED_KEYS = {
    "id",
    "category",
    "title",
    "summary",
    "next_steps",
    "stop_codes",
    "text",
    "exit_codes",
    "oom_reason",
    "standalone",
    "ran_to_completion",
}
NO_STOP_CODE = ""


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: conditions that must all hold, and what to say when they do."""

    id: str
    category: str
    title: str
    summary: str
    next_steps: tuple[str, ...]
    stop_codes: frozenset[str] | None = None
    text: re.Pattern[str] | None = None
    exit_codes: frozenset[int] | None = None
    oom_reason: bool = False
    standalone: bool = False  # only a task no service runs (RunTask, a scheduled task, a batch job)
    ran_to_completion: bool = False  # only a task whose (essential) containers all finished cleanly


class RuleTableError(ValueError):
    """The rule table is invalid; the message names the rule and the key."""


def parse_rules(document: dict[str, object], source: str = "rules.toml") -> tuple[Rule, ...]:
    """Validate and compile a parsed rule table. Raises RuleTableError naming the offending rule."""
    raw_rules = document.get("rule")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleTableError(f"{source}: expected [[rule]] entries")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        where = f"{source}: rule #{index + 1} ({raw.get('id', '?')})"
        unknown = set(raw) - _ALLOWED_KEYS
        if unknown:
            raise RuleTableError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_ALLOWED_KEYS)}")
        for key in ("id", "category", "title", "summary", "next_steps"):
            if key not in raw:
                raise RuleTableError(f"{where}: missing key {key!r}")
        if raw["id"] in seen:
            raise RuleTableError(f"{where}: duplicate id")
        seen.add(raw["id"])
        if raw["category"] not in CATEGORIES:
            raise RuleTableError(f"{where}: category {raw['category']!r} is not one of {sorted(CATEGORIES)}")
        try:
            text = re.compile(raw["text"], re.IGNORECASE | re.DOTALL) if "text" in raw else None
        except re.error as error:
            raise RuleTableError(f"{where}: text is not a valid regular expression: {error}") from error
        rules.append(
            Rule(
                id=raw["id"],
                category=raw["category"],
                title=raw["title"],
                summary=raw["summary"],
                next_steps=tuple(raw["next_steps"]),
                stop_codes=frozenset(raw["stop_codes"]) if "stop_codes" in raw else None,
                text=text,
                exit_codes=frozenset(raw["exit_codes"]) if "exit_codes" in raw else None,
                oom_reason=bool(raw.get("oom_reason", False)),
                standalone=bool(raw.get("standalone", False)),
                ran_to_completion=bool(raw.get("ran_to_completion", False)),
            )
        )
    if any(_matches_everything(r) for r in rules[:-1]):
        raise RuleTableError(f"{source}: only the last rule may match everything")
    return tuple(rules)


def _matches_everything(rule: Rule) -> bool:
    conditions = (rule.stop_codes, rule.text, rule.exit_codes)
    return all(c is None for c in conditions) and not (rule.oom_reason or rule.standalone or rule.ran_to_completion)


@cache
def default_rules() -> tuple[Rule, ...]:
    """The shipped rule table, loaded once per process."""
    with RULES_FILE.open("rb") as handle:
        return parse_rules(tomllib.load(handle), source=str(RULES_FILE.name))
