"""What a plain `pip install ecs-watchdog` lacks, and the one line that says how to get it.

The Lambda runtime (boto3, Powertools, pydantic, slack_sdk) is the package's only dependency. The
offline sandbox behind `demo`, `replay`, `bench` and scenario rendering (moto, the scenario schema's
validator, YAML, progress) is the `local` extra; a command that needs it and finds it missing says so
in one line instead of a traceback.
"""

from __future__ import annotations

# Top-level modules of the `local` extra (pyproject.toml) and of what it pulls in.
LOCAL_EXTRA_MODULES = frozenset(
    {"moto", "jsonschema", "yaml", "rich", "werkzeug", "responses", "py_partiql_parser", "jsonpath_ng"}
)
LOCAL_EXTRA_INSTALL = "pip install 'ecs-watchdog[local]'"


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one-line advice for a module of the `local` extra that is not installed, else None."""
    top = (error.name or "").partition(".")[0]
    if top not in LOCAL_EXTRA_MODULES:
        return None
    return f"needs the offline sandbox, which is not installed (no module {top!r}): {LOCAL_EXTRA_INSTALL}"
