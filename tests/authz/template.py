"""The synthesized stack as the authorization test reads it: each function's role policies and
environment, with every CloudFormation reference resolved to the name a deployment would give it.

Stack-owned resources get the names the local sandbox uses (`replay/sandbox.py`: the state table, the
alerts topic, the events DLQ), so a replay run through the real handler touches the very ARNs the
resolved policies name; the test checks that the replay's settings agree. Everything else is named
after its logical id. Unresolvable intrinsics raise: a new construct must be taught here, not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ecs_watchdog.replay import sandbox

ACCOUNT = sandbox.ACCOUNT
REGION = sandbox.REGION
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"
# The names the sandbox (and so every replay) creates these resources under.
ALERTS_TOPIC_NAME = "ecs-watchdog-alerts"
EVENTS_DLQ_NAME = "ecs-watchdog-events-dlq"
EVENTS_QUEUE_NAME = "ecs-watchdog-events"
SANDBOX_NAMES = {
    ("AWS::DynamoDB::Table", "State"): sandbox.STATE_TABLE_NAME,
    ("AWS::SNS::Topic", "AlertsTopic"): ALERTS_TOPIC_NAME,
    ("AWS::SQS::Queue", "IngestEventsDlq"): EVENTS_DLQ_NAME,
    ("AWS::SQS::Queue", "IngestEventsQueue"): EVENTS_QUEUE_NAME,
}
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
# The stack's functions, by the handler infra/ gives each (the recorder names them by the same modules).
FUNCTIONS = {
    "ecs_watchdog.handlers.ecs_events.handler": "events",
    "ecs_watchdog.handlers.sweep.handler": "sweep",
    "ecs_watchdog.handlers.diagnose.handler": "diagnose",
    "ecs_watchdog.handlers.lifecycle_hook.handler": "lifecycle_hook",
    "ecs_watchdog.handlers.slack_interactions.handler": "slack_interactions",
}


@dataclass(frozen=True)
class DeployedFunction:
    """One Lambda function of the stack: its role's identity policies and its environment, resolved."""

    name: str
    logical_id: str
    role_logical_id: str
    policies: tuple[dict[str, Any], ...]  # policy documents, Sid kept
    environment: dict[str, str]
    log_group_arn: str
    event_source_queue_arns: tuple[str, ...]


class StackTemplate:
    """A synthesized template with references resolved (see the module docstring)."""

    def __init__(self, template: dict[str, Any], account: str = ACCOUNT, stack_name: str = "EcsWatchdog") -> None:
        self.template = template
        self.account = account  # a member template is bound to the member's account
        self.stack_name = stack_name
        self.resources: dict[str, dict[str, Any]] = template["Resources"]

    # --- names ------------------------------------------------------------------------------------

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        kind, properties = resource["Type"], resource.get("Properties", {})
        for (sandbox_kind, prefix), name in SANDBOX_NAMES.items():
            if kind == sandbox_kind and logical_id.startswith(prefix):
                return name
        for explicit in ("Name", "TableName", "TopicName", "QueueName", "LogGroupName", "RoleName", "FunctionName"):
            if isinstance(properties.get(explicit), str):
                return str(properties[explicit])
        return logical_id

    def arn(self, logical_id: str) -> str:
        kind, name = self.resources[logical_id]["Type"], self.physical_name(logical_id)
        prefix = f"arn:{PARTITION}"
        account = self.account
        arns = {
            "AWS::DynamoDB::Table": f"{prefix}:dynamodb:{REGION}:{account}:table/{name}",
            "AWS::SNS::Topic": f"{prefix}:sns:{REGION}:{account}:{name}",
            "AWS::SQS::Queue": f"{prefix}:sqs:{REGION}:{account}:{name}",
            "AWS::KMS::Key": f"{prefix}:kms:{REGION}:{account}:key/{KEY_ID}",
            "AWS::Logs::LogGroup": f"{prefix}:logs:{REGION}:{account}:log-group:{name}:*",
            "AWS::IAM::Role": f"{prefix}:iam::{account}:role/{name}",
            "AWS::Lambda::Function": f"{prefix}:lambda:{REGION}:{account}:function:{name}",
            "AWS::SSM::Parameter": f"{prefix}:ssm:{REGION}:{account}:parameter/{name.lstrip('/')}",
        }
        if kind not in arns:
            raise ValueError(f"{logical_id}: no ARN known for {kind}")
        return arns[kind]

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::StackName": self.stack_name,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::SNS::Topic":
            return self.arn(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.{URL_SUFFIX}/{self.account}/{self.physical_name(logical_id)}"
        if kind == "AWS::KMS::Key":
            return KEY_ID
        return self.physical_name(logical_id)

    def resolve(self, value: Any) -> Any:
        """`value` with Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split replaced by what they give."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                if attribute == "Arn":
                    return self.arn(logical_id)
                if attribute in ("QueueName", "TopicName"):
                    return self.physical_name(logical_id)
                raise ValueError(f"Fn::GetAtt {logical_id}.{attribute} is not resolved by tests/authz")
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(p)) for p in parts)
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(text)).split(separator)
            if key.startswith("Fn::"):
                raise ValueError(f"{key} is not resolved by tests/authz: {json.dumps(value)[:200]}")
        return {k: self.resolve(v) for k, v in value.items()}

    # --- functions --------------------------------------------------------------------------------

    def functions(self) -> dict[str, DeployedFunction]:
        """Every function of the stack, by the name the recorder gives it."""
        found: dict[str, DeployedFunction] = {}
        for logical_id, resource in self.resources.items():
            if resource["Type"] != "AWS::Lambda::Function":
                continue
            properties = resource["Properties"]
            name = FUNCTIONS.get(properties.get("Handler", ""))
            if name is None:
                raise ValueError(
                    f"{logical_id}: handler {properties.get('Handler')} is not a function tests/authz knows"
                )
            role = properties["Role"]["Fn::GetAtt"][0]
            found[name] = DeployedFunction(
                name=name,
                logical_id=logical_id,
                role_logical_id=role,
                policies=self.role_policies(role),
                environment={k: str(self.resolve(v)) for k, v in properties["Environment"]["Variables"].items()},
                log_group_arn=self.arn(properties["LoggingConfig"]["LogGroup"]["Ref"]),
                event_source_queue_arns=tuple(
                    self.resolve(m["Properties"]["EventSourceArn"])
                    for m in self.resources.values()
                    if m["Type"] == "AWS::Lambda::EventSourceMapping"
                    and m["Properties"]["FunctionName"] == {"Ref": logical_id}
                ),
            )
        return found

    def role_policies(self, role_logical_id: str) -> tuple[dict[str, Any], ...]:
        """The identity policies of a role: inline ones and every AWS::IAM::Policy attached to it.
        A managed policy ARN cannot be evaluated offline, so one is refused."""
        role = self.resources[role_logical_id]["Properties"]
        if role.get("ManagedPolicyArns"):
            raise ValueError(f"{role_logical_id} has managed policies; tests/authz evaluates inline policies only")
        documents = [p["PolicyDocument"] for p in role.get("Policies", [])]
        for resource in self.resources.values():
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in resource["Properties"]["Roles"]:
                documents.append(resource["Properties"]["PolicyDocument"])
        return tuple(self.resolve(d) for d in documents)

    def named_role(self, role_name: str) -> tuple[tuple[dict[str, Any], ...], dict[str, Any]]:
        """The identity policies and the trust policy of the role named `role_name` (a member's roles)."""
        (logical_id,) = [
            k
            for k, r in self.resources.items()
            if r["Type"] == "AWS::IAM::Role" and r["Properties"].get("RoleName") == role_name
        ]
        trust = self.resolve(self.resources[logical_id]["Properties"]["AssumeRolePolicyDocument"])
        return self.role_policies(logical_id), trust

    def role_names(self) -> list[str]:
        """The explicit names of the template's roles."""
        return [
            str(r["Properties"]["RoleName"])
            for r in self.resources.values()
            if r["Type"] == "AWS::IAM::Role" and isinstance(r["Properties"].get("RoleName"), str)
        ]

    def topic_key_arn(self, topic_arn: str) -> str | None:
        """The KMS key ARN the topic is encrypted with, if any."""
        for logical_id, resource in self.resources.items():
            if resource["Type"] == "AWS::SNS::Topic" and self.arn(logical_id) == topic_arn:
                key = resource["Properties"].get("KmsMasterKeyId")
                return str(self.resolve(key)) if key else None
        return None

    def key_policies(self) -> dict[str, dict[str, Any]]:
        """Each KMS key's ARN and its key policy, resolved."""
        return {
            self.arn(k): self.resolve(r["Properties"]["KeyPolicy"])
            for k, r in self.resources.items()
            if r["Type"] == "AWS::KMS::Key"
        }

    def resource_of_kind(self, kind: str, prefix: str) -> tuple[str, dict[str, Any]]:
        """(logical id, resolved properties) of the one resource of `kind` whose id starts with `prefix`."""
        (found,) = [k for k, r in self.resources.items() if r["Type"] == kind and k.startswith(prefix)]
        return found, self.resolve(self.resources[found].get("Properties", {}))
