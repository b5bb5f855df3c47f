"""What the diagnose function is asked (pure): a service, or a task whose service is looked up."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator

DEFAULT_CLUSTER = "default"  # what ECS assumes when a call names no cluster


class InvalidRequest(ValueError):
    """The event is not a diagnose request; the message says what is expected."""


class TaskLookupError(LookupError):
    """The task cannot be described, or was not started by a service (adapters raise it, never botocore's)."""


class AccountUnavailable(LookupError):
    """The request names an account this diagnose function cannot look into (not a hub's member, or its
    role cannot be assumed): the message says which and why."""


class DiagnoseRequest(BaseModel):
    """`{"cluster": ..., "service": ...}` or `{"taskArn": ...}` (cluster optional), `"post": true` to post, and
    in a hub `"account": "111122223333"` for a member's service."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    cluster: str | None = Field(default=None, min_length=1)
    service: str | None = Field(default=None, min_length=1)
    task_arn: str | None = Field(default=None, alias="taskArn", min_length=1)
    post: StrictBool = False
    # Organization mode: a member account's service, looked up through its read role (docs/organization.md).
    account: str | None = Field(default=None, pattern=r"^\d{12}$")

    @model_validator(mode="after")
    def _names_a_service_or_a_task(self) -> DiagnoseRequest:
        if self.task_arn is None and (self.cluster is None or self.service is None):
            raise ValueError("give cluster and service, or taskArn")
        return self

    @property
    def task_cluster(self) -> str:
        """The cluster to describe the task in: the one given, the one in the task ARN, else `default`."""
        return self.cluster or cluster_of_task_arn(self.task_arn or "") or DEFAULT_CLUSTER


def parse_request(event: Any) -> DiagnoseRequest:
    """The request in a console event; InvalidRequest (one line, naming the field) when it is not one."""
    if not isinstance(event, dict):
        raise InvalidRequest(f'expected a JSON object like {{"cluster": "...", "service": "..."}}, got {event!r:.80}')
    try:
        return DiagnoseRequest.model_validate(event)
    except ValidationError as error:
        problems = "; ".join(_problem(e) for e in error.errors())
        raise InvalidRequest(
            f'{problems} (expected {{"cluster": "...", "service": "..."}} or {{"taskArn": "..."}}, '
            'optionally "post": true and "account": "<member account id>")'
        ) from None


def _problem(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def cluster_of_task_arn(task_arn: str) -> str | None:
    """The cluster named in a task ARN (`.../task/<cluster>/<id>`); None for the old format or a bare id."""
    parts = task_arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    resource = parts[5].split("/")
    return resource[1] if len(resource) == 3 and resource[0] == "task" else None


def service_of_group(group: str | None) -> str | None:
    """The service name in a task's `group` (`service:<name>`); None for a standalone task (`family:...`)."""
    if group and group.startswith("service:") and len(group) > len("service:"):
        return group.removeprefix("service:")
    return None
