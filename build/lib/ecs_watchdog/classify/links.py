"""AWS console links for the resources a classification names (pure: strings in, strings out)."""

from __future__ import annotations

from urllib.parse import quote


def console(region: str, path: str) -> str:
    """A console URL in the given region (console links need the region to open the right page)."""
    return f"https://{region}.console.aws.amazon.com/{path}"


def task_link(region: str, cluster: str, task_id: str) -> str:
    return console(region, f"ecs/v2/clusters/{cluster}/tasks/{task_id}/configuration?region={region}")


def service_link(region: str, cluster: str, service: str) -> str:
    return console(region, f"ecs/v2/clusters/{cluster}/services/{service}/health?region={region}")


def task_definition_link(region: str, task_definition: str) -> str:
    family, _, revision = task_definition.partition(":")
    return console(region, f"ecs/v2/task-definitions/{family}/{revision or 'latest'}/containers?region={region}")


def image_link(region: str, image: str) -> str:
    """The ECR repository page for an ECR image URI; the image itself for any other registry."""
    host, _, rest = image.partition("/")
    if ".dkr.ecr." in host and rest:
        account = host.split(".", 1)[0]
        repository = rest.split("@", 1)[0].rsplit(":", 1)[0]
        return console(region, f"ecr/repositories/private/{account}/{repository}?region={region}")
    return image


def secret_link(region: str, secret: str) -> str:
    """Secrets Manager or SSM Parameter Store page for a secret/parameter ARN or name."""
    if ":ssm:" in secret:
        name = secret.split(":parameter", 1)[-1]
        return console(region, f"systems-manager/parameters{quote(name)}/description?region={region}")
    name = secret.split(":secret:", 1)[-1] if ":secret:" in secret else secret
    return console(region, f"secretsmanager/secret?name={quote(name, safe='')}&region={region}")


def log_group_link(region: str, log_group: str | None) -> str:
    if not log_group:
        return console(region, f"cloudwatch/home?region={region}#logsV2:log-groups")
    encoded = quote(quote(log_group, safe=""), safe="").replace("%", "$")
    return console(region, f"cloudwatch/home?region={region}#logsV2:log-groups/log-group/{encoded}")


def target_group_link(region: str, target_group_arn: str | None) -> str:
    if not target_group_arn:
        return console(region, f"ec2/home?region={region}#TargetGroups:")
    return console(region, f"ec2/home?region={region}#TargetGroup:targetGroupArn={target_group_arn}")


def service_events_link(region: str, cluster: str, service: str) -> str:
    """The service's Events tab: what ECS itself said about placements, deployments and steady state."""
    return console(region, f"ecs/v2/clusters/{cluster}/services/{service}/events?region={region}")


def log_stream_link(region: str, log_group: str, log_stream: str) -> str:
    """One CloudWatch Logs stream (the console double-encodes names and writes % as $)."""
    encoded = quote(quote(log_stream, safe=""), safe="").replace("%", "$")
    return f"{log_group_link(region, log_group)}/log-events/{encoded}"
