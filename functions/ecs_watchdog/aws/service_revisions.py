"""What the Lambda lifecycle hook asks ECS: a service revision's task definition, whether the service is
rolling back (moto lacks both operations: tested with botocore's Stubber), and the service's tags (the
`ecs-watchdog:action` tag that lowers the mode)."""

from __future__ import annotations

from typing import Any

# A deployment in these states is being rolled back: traffic-shift hooks run again and must not block it.
ROLLBACK_STATUSES = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


class RevisionNotFound(LookupError):
    """ECS did not describe the service revision (it reported a failure, or nothing)."""


class ServiceRevisions:
    """DescribeServiceRevisions, ListServiceDeployments and ListTagsForResource over one ECS client.

    A service revision never changes, so its task definition is kept for the life of the container.
    """

    def __init__(self, ecs_client: Any) -> None:
        self._client = ecs_client
        self._task_definitions: dict[str, str] = {}

    def task_definition_of(self, revision_arn: str) -> str:
        """The task definition ARN the service revision runs; RevisionNotFound when ECS does not say."""
        known = self._task_definitions.get(revision_arn)
        if known is not None:
            return known
        response = self._client.describe_service_revisions(serviceRevisionArns=[revision_arn])
        for revision in response.get("serviceRevisions", []):
            if revision.get("serviceRevisionArn") == revision_arn and revision.get("taskDefinition"):
                self._task_definitions[revision_arn] = str(revision["taskDefinition"])
                return self._task_definitions[revision_arn]
        reasons = "; ".join(f"{f.get('reason', '?')}: {f.get('detail', '')}" for f in response.get("failures", []))
        raise RevisionNotFound(f"{revision_arn}: {reasons or 'not described'}")

    def rolling_back(self, cluster: str, service: str) -> bool:
        """Whether a deployment of the service is being rolled back (one page answers it)."""
        response = self._client.list_service_deployments(
            cluster=cluster, service=service, status=list(ROLLBACK_STATUSES), maxResults=1
        )
        return bool(response.get("serviceDeployments"))

    def service_tags(self, service_arn: str) -> dict[str, str]:
        """The service's tags, read on every invocation: a tag changed a minute ago counts now."""
        response = self._client.list_tags_for_resource(resourceArn=service_arn)
        return {str(t["key"]): str(t.get("value", "")) for t in response.get("tags", []) if "key" in t}
