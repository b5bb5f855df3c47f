"""CDK assertions on the diagnose function, its read-only role, the console test events, and the
published minimal IAM policy (docs/diagnose.md) agreeing with the role."""

from __future__ import annotations

import json
import re

import pytest
from aws_cdk.assertions import Match, Template

from ecs_watchdog.diagnose.permissions import DIAGNOSIS_READ_STATEMENTS, diagnosis_actions, minimal_policy
from infra.console_events import TEST_EVENT_REGISTRY
from tests.infra.conftest import ROOT, synth_template


def _function(template: Template) -> dict:
    (function,) = [
        f
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "ecs_watchdog.handlers.diagnose.handler"
    ]
    return function["Properties"]


def _statements(template: Template) -> dict[str, dict]:
    return {
        statement["Sid"]: statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if "DiagnoseDiagnoseRole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    }


def _actions(statement: dict) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_diagnose_function_runs_arm64_newest_python_with_json_logs_and_the_events_functions_code(template: Template):
    properties = _function(template)
    assert (properties["Runtime"], properties["Architectures"]) == ("python3.14", ["arm64"])
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["Timeout"] == 60
    events = next(
        f["Properties"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "ecs_watchdog.handlers.ecs_events.handler"
    )
    assert properties["Code"] == events["Code"]  # one bundled asset for both functions
    assert properties["Environment"]["Variables"]["PROBE_READ_SECRET_VALUES"] == "false"
    assert properties["Environment"]["Variables"]["SLACK_SECRET_NAME"] == "ecs-watchdog/slack-webhook"
    assert "DiagnoseDiagnoseLogs" in json.dumps(properties["LoggingConfig"]["LogGroup"])
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30, "LogGroupName": Match.absent()})


def test_diagnose_role_may_read_what_the_probes_read_post_the_report_and_nothing_else(template: Template):
    statements = _statements(template)
    granted = {action for s in statements.values() for action in _actions(s)}
    assert granted == diagnosis_actions() | {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "sns:Publish",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "secretsmanager:GetSecretValue",
    }
    for statement in DIAGNOSIS_READ_STATEMENTS:
        assert _actions(statements[statement.sid]) == set(statement.actions)
        assert statements[statement.sid]["Effect"] == "Allow"
    # GetSecretValue only on the Slack secret, never on the probed secrets, by default.
    assert "ReadSecretValuesForJsonCheck" not in statements
    assert "secret:ecs-watchdog/slack-webhook-??????" in json.dumps(statements["ReadSlackWebhook"]["Resource"])
    assert "AlertsTopic" in json.dumps(statements["PostReport"]["Resource"])
    assert not any(
        a.split(":")[1].startswith(("Put", "Update", "Delete", "Create", "Stop")) for a in diagnosis_actions()
    )


def test_diagnose_role_resources_are_the_published_ones_scoped_to_the_stack(template: Template):
    statements = _statements(template)
    services = json.dumps(statements["DescribeServices"]["Resource"])
    assert ":service/*" in services and '"Ref": "AWS::Region"' in services and '"Ref": "AWS::AccountId"' in services
    assert statements["DescribeWithoutResourceLevelPermissions"]["Resource"] == "*"
    published = {s["Sid"]: s for s in minimal_policy()["Statement"]}
    assert set(published) == {s.sid for s in DIAGNOSIS_READ_STATEMENTS} <= set(statements)


def test_docs_publish_exactly_the_generated_minimal_policy():
    text = (ROOT / "docs" / "diagnose.md").read_text()
    section = text.split("## Minimal IAM policy for the CLI", 1)[1]
    (block,) = re.findall(r"```json\n(.*?)\n```", section, flags=re.S)[:1]
    assert json.loads(block) == minimal_policy()


def test_shareable_test_events_are_schemas_named_for_each_function_in_the_lambda_registry(template: Template):
    schemas = template.find_resources("AWS::EventSchemas::Schema")
    assert len(schemas) == 2
    names = sorted(json.dumps(s["Properties"]["SchemaName"]) for s in schemas.values())
    assert all('"_"' in n and "-schema" in n for n in names)
    assert any("DiagnoseDiagnoseFunction" in n for n in names) and any("FunctionsEventsFunction" in n for n in names)
    for schema in schemas.values():
        assert (schema["Properties"]["RegistryName"], schema["Properties"]["Type"]) == (TEST_EVENT_REGISTRY, "OpenApi3")
        assert "DependsOn" not in schema
    assert template.find_resources("AWS::EventSchemas::Registry") == {}


def _examples(template: Template, function_logical_prefix: str) -> dict:
    schema = next(
        s
        for s in template.find_resources("AWS::EventSchemas::Schema").values()
        if function_logical_prefix in json.dumps(s["Properties"]["SchemaName"])
    )
    parts = schema["Properties"]["Content"]["Fn::Join"][1]
    # Stand-ins for the stack's account and region, to read the document.
    content = "".join(
        p if isinstance(p, str) else {"AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1"}[p["Ref"]]
        for p in parts
    )
    document = json.loads(content)
    assert document["openapi"].startswith("3.")
    return {name: example["value"] for name, example in document["components"]["examples"].items()}


def test_events_function_test_events_are_raw_ecs_events_of_the_stacks_account_and_region(template: Template):
    from ecs_watchdog.events import parse_envelope

    examples = _examples(template, "FunctionsEventsFunction")
    assert sorted(examples) == ["deployment-failed", "service-task-start-impaired", "task-stopped-image-not-found"]
    for event in examples.values():
        assert (event["account"], event["region"], event["source"]) == ("123456789012", "eu-west-1", "aws.ecs")
        parse_envelope(event)  # each is an event the function accepts
    stopped = examples["task-stopped-image-not-found"]
    assert (stopped["detail-type"], stopped["detail"]["lastStatus"]) == ("ECS Task State Change", "STOPPED")


def test_diagnose_test_events_name_a_service_and_a_task_to_post(template: Template):
    from ecs_watchdog.diagnose.request import parse_request

    examples = _examples(template, "DiagnoseDiagnoseFunction")
    assert examples["diagnose-service"] == {"cluster": "my-cluster", "service": "my-service"}
    by_task = parse_request(examples["diagnose-task-and-post"])
    assert (by_task.task_cluster, by_task.post) == ("my-cluster", True)


def test_stack_output_names_the_diagnose_function(template: Template):
    output = template.find_outputs("DiagnoseFunctionName")["DiagnoseFunctionName"]
    assert "DiagnoseDiagnoseFunction" in json.dumps(output["Value"])


@pytest.fixture(scope="module")
def opted_in_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return synth_template(
        tmp_path_factory.mktemp("cdk.out.diagnose"),
        {"watchdog:probe_read_secret_values": "true", "watchdog:create_test_event_registry": True},
    )


def test_opting_in_reads_secret_values_and_creates_the_registry_before_the_schemas(opted_in_template: Template):
    statements = _statements(opted_in_template)
    assert _actions(statements["ReadSecretValuesForJsonCheck"]) == {"secretsmanager:GetSecretValue"}
    assert _function(opted_in_template)["Environment"]["Variables"]["PROBE_READ_SECRET_VALUES"] == "true"
    ((registry_id, registry),) = opted_in_template.find_resources("AWS::EventSchemas::Registry").items()
    assert registry["Properties"]["RegistryName"] == TEST_EVENT_REGISTRY
    for schema in opted_in_template.find_resources("AWS::EventSchemas::Schema").values():
        assert schema["DependsOn"] == [registry_id]
