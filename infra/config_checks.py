"""How a context mistake is told: the key, the value, what is allowed, and the key or value probably meant.

Generic over every key in infra/config.py's table, so a key added there gets the same treatment:
- a mistyped `watchdog:` key names the nearest known key (difflib), not all of them;
- a key given without its prefix (`-c mode=enforce`), which CDK passes on and the stack would
  silently ignore, is a warning naming the key meant;
- a value its parser cannot read at all (bad JSON in a list) is a ConfigError naming key and value,
  never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# Keys CDK itself and its feature flags use: never ours, never warned about.
_FOREIGN_PREFIXES = ("@aws-cdk", "aws:", "aws-cdk:", "cdk", "acknowledged-issue-numbers")


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` was most likely meant to be (a typo or a case slip), or None."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[found[0]] if found else None


def unknown_key_message(key: str, known: Iterable[str]) -> str:
    """The error for a `watchdog:` key the stack does not read."""
    known = sorted(known)
    guess = nearest(key, known)
    if guess:
        return f"{key}: unknown context key; did you mean {guess}? (all keys: docs/configuration.md)"
    return f"{key}: unknown context key; known keys: {', '.join(known)}"


def unprefixed_key_warnings(context: Mapping[str, Any], prefix: str, names: Iterable[str]) -> list[str]:
    """One warning per context key that looks like a watchdog key without its prefix: it is not read."""
    names = list(names)
    warnings = []
    for key in sorted(context):
        if key.startswith(prefix) or key.startswith(_FOREIGN_PREFIXES) or ":" in key or "/" in key:
            continue
        guess = nearest(key, names)
        if guess:
            warnings.append(
                f"context key {key!r} is not read (no {prefix!r} prefix): did you mean {prefix}{guess}? "
                f"(-c {prefix}{guess}={context[key]})"
            )
    return warnings


def parse_value(parse: Callable[[str, Any], Any], key: str, value: Any, error_type: type[ValueError]) -> Any:
    """`parse(key, value)`, with any failure its parser did not word itself turned into `error_type`
    naming the key and the value."""
    try:
        return parse(key, value)
    except error_type:
        raise
    except (ValueError, TypeError, AttributeError) as error:
        shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
        raise error_type(f"{key}: cannot read {shown} ({error}); see docs/configuration.md") from None


def value_hint(value: Any, allowed: Iterable[str]) -> str:
    """'; did you mean X?' when `value` is a near miss of one of `allowed`, else ''."""
    guess = nearest(str(value), allowed)
    return f"; did you mean {guess!r}?" if guess and guess != value else ""
