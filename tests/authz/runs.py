"""Representative runs of each Lambda function through its real handler, in a moto account built from
the synthesized template: the function's environment is the template's (resolved), and the resources
it names exist under the names the template gives them. What each run reaches is listed in its
docstring; together they reach every adapter call under `functions/ecs_watchdog/aws/` (checked by
test_authorization.py against the adapters' source).

ECS calls moto lacks are answered as the sandbox answers them (replay/service_deployments.py) or, for
ContinueServiceDeployment and the lifecycle hook's reads, by a hook and a Stubber that check the exact
parameters. Slack is local (a webhook capture and a fake Web API on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws
from moto.ecs.models import ecs_backends

from ecs_watchdog.approvals.click import ButtonKind
from ecs_watchdog.aws.slack_bot import SlackBot
from ecs_watchdog.aws.state_table import StateTable
from ecs_watchdog.handlers import diagnose, ecs_events, lifecycle_hook, slack_interactions
from ecs_watchdog.handlers import sweep as sweep_handler
from ecs_watchdog.replay.local_lambda import LocalLambdaContext, sqs_batch
from ecs_watchdog.replay.runner import run_scenario
from ecs_watchdog.replay.sandbox import FAKE_CREDENTIALS, SlackCapture
from ecs_watchdog.replay.scenario import load_scenario
from ecs_watchdog.replay.service_deployments import ServiceDeploymentCalls
from ecs_watchdog.wiring.diagnose import DiagnoseSettings
from ecs_watchdog.wiring.lifecycle_hook import build_lambda_hook_gate
from ecs_watchdog.wiring.settings import Settings
from tests.authz.iam_requests import Lookups
from tests.authz.template import ACCOUNT, REGION, DeployedFunction, StackTemplate
from tests.conftest import load_event
from tests.integration.diagnose_account import create_diagnosable_service
from tests.integration.fake_pagerduty import FakePagerDuty
from tests.integration.fake_slack import FakeSlack, fake_slack
from tests.integration.incident_events import (
    CLUSTER,
    PULL_ERROR,
    SERVICE,
    bodies,
    deployment,
    service_action,
    stopped,
    td,
)
from tests.integration.instance_health import instance_health, instance_with_a_task_of
from tests.integration.service_setup import create_service
from tests.integration.slack_requests import SIGNING_SECRET, SignedPresses, block_actions, function_url_event

SCENARIOS = os.path.join(os.path.dirname(__file__), "..", "..", "scenarios")
ROLE = f"arn:aws:iam::{ACCOUNT}:role"
TASK_ROLE, EXECUTION_ROLE = f"{ROLE}/api-task", f"{ROLE}/api-execution"
BOT_TOKEN = "xoxb-1111-2222-authz"
APPROVE, UNDO, ACKNOWLEDGE = ButtonKind.APPROVE, ButtonKind.UNDO, ButtonKind.ACKNOWLEDGE


@dataclass
class DeployedAccount:
    """moto with the stack's resources, the function's environment, and what the runs need to look up."""

    session: boto3.Session
    stack: StackTemplate
    webhook: SlackCapture
    bot: FakeSlack | None
    continued: list[dict[str, Any]] = field(default_factory=list)
    diagnosable: dict[str, str] | None = None

    def lookups(self) -> Lookups:
        def tags(arn: str) -> dict[str, str]:
            cluster, name = arn.split(":service/", 1)[1].split("/")
            try:
                service = ecs_backends[ACCOUNT][REGION]._get_service(cluster, name)
            except Exception:
                return {}
            return {t["key"]: t["value"] for t in service.tags or []}

        def roles(arn: str) -> list[str]:
            definition = ecs_backends[ACCOUNT][REGION].describe_task_definition(arn)
            return [r for r in (definition.task_role_arn, definition.execution_role_arn) if r]

        return Lookups(service_tags=tags, task_definition_roles=roles, topic_key=self.stack.topic_key_arn)


@contextlib.contextmanager
def local_slack() -> Iterator[tuple[SlackCapture, FakeSlack]]:
    """A webhook capture and a fake Slack Web API on 127.0.0.1, shared by every account of a check."""
    webhook = SlackCapture()
    webhook.start()
    try:
        with fake_slack() as bot:
            yield webhook, bot
    finally:
        webhook.stop()


@contextlib.contextmanager
def deployed_account(stack: StackTemplate, slack: tuple[SlackCapture, FakeSlack]) -> Iterator[DeployedAccount]:
    """moto in-process holding what the template creates (and the Slack secrets it names)."""
    webhook, bot = slack
    with contextlib.ExitStack() as stack_of_contexts:
        stack_of_contexts.enter_context(mock.patch.dict(os.environ, FAKE_CREDENTIALS))
        stack_of_contexts.enter_context(mock_aws())
        session = boto3.Session(region_name=REGION, botocore_session=_botocore_session())
        account = DeployedAccount(session, stack, webhook, bot)
        _provision(account)
        pagerduty = stack_of_contexts.enter_context(FakePagerDuty())
        for name in {e["PAGERDUTY_SECRET_NAME"] for e in _environments(stack) if e.get("PAGERDUTY_SECRET_NAME")}:
            value = json.dumps({"routing_key": "R0UT1NGKEY", "events_url": pagerduty.url})
            session.client("secretsmanager").create_secret(Name=name, SecretString=value)
        ServiceDeploymentCalls(ACCOUNT, REGION).install(session)
        session.events.register("before-call.ecs.ContinueServiceDeployment", _continue_answer(account))
        # The bot posts to Slack's Web API; here, to the fake one.
        original = SlackBot.from_secret.__func__  # type: ignore[attr-defined]
        stack_of_contexts.enter_context(
            mock.patch.object(
                SlackBot,
                "from_secret",
                classmethod(lambda cls, *a, **k: original(cls, *a, **{"base_url": bot.api_base_url, **k})),
            )
        )
        yield account


def _environments(stack: StackTemplate) -> list[dict[str, str]]:
    return [f.environment for f in stack.functions().values()]


_LOADER = botocore.loaders.create_loader()


def _botocore_session() -> botocore.session.Session:
    """A fresh botocore session over one shared model loader: service models are parsed once per check."""
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER)
    return session


def _provision(account: DeployedAccount) -> None:
    session, stack = account.session, account.stack
    for logical_id, resource in stack.resources.items():
        kind, name = resource["Type"], stack.physical_name(logical_id)
        properties = resource.get("Properties", {})
        if kind == "AWS::DynamoDB::Table":
            session.client("dynamodb").create_table(
                TableName=name,
                KeySchema=properties["KeySchema"],
                AttributeDefinitions=properties["AttributeDefinitions"],
                GlobalSecondaryIndexes=properties.get("GlobalSecondaryIndexes", []),
                BillingMode=properties["BillingMode"],
            )
        elif kind == "AWS::SNS::Topic":
            session.client("sns").create_topic(Name=name)
        elif kind == "AWS::SQS::Queue":
            session.client("sqs").create_queue(QueueName=name)
        elif kind == "AWS::SSM::Parameter":
            session.client("ssm").put_parameter(Name=name, Value=properties["Value"], Type=properties["Type"])
    secrets = session.client("secretsmanager")
    environments = [f.environment for f in stack.functions().values()]
    for name in {e["SLACK_SECRET_NAME"] for e in environments if e.get("SLACK_SECRET_NAME")}:
        secrets.create_secret(Name=name, SecretString=json.dumps({"webhook_url": account.webhook.url}))
    for name in {e["SLACK_BOT_SECRET_NAME"] for e in environments if e.get("SLACK_BOT_SECRET_NAME")}:
        secrets.create_secret(Name=name, SecretString=json.dumps({"bot_token": BOT_TOKEN}))
    signing = "WATCHDOG_SLACK_SIGNING_SECRET_NAME"
    for name in {e[signing] for e in environments if e.get(signing)}:
        secrets.create_secret(Name=name, SecretString=json.dumps({"signing_secret": SIGNING_SECRET}))


def _continue_answer(account: DeployedAccount) -> Callable[..., Any]:
    """ContinueServiceDeployment, which moto lacks: the request must name the deployment and the hook."""

    def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params.get("body") or b"{}")
        assert set(request) == {"serviceDeploymentArn", "hookId", "action"}, request
        assert request["action"] in ("CONTINUE", "ROLLBACK")
        account.continued.append(request)
        body = {"serviceDeploymentArn": request["serviceDeploymentArn"], "ResponseMetadata": {"HTTPStatusCode": 200}}
        return AWSResponse("https://ecs.local", 200, {}, None), body

    return answer


def in_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    """The same event as ECS in `account` would send it (its account field and every ARN)."""
    return event if account == ACCOUNT else dict(json.loads(json.dumps(event).replace(ACCOUNT, account)))


def _environment(function: DeployedFunction) -> dict[str, str]:
    return {k: v for k, v in function.environment.items() if v != ""}


def _invoke(events: list[str], receive_count: int = 1) -> dict[str, Any]:
    return ecs_events.handler(sqs_batch(events, receive_count=receive_count), LocalLambdaContext())


# --- the events function --------------------------------------------------------------------------


def events_function_runs(account: DeployedAccount) -> None:
    """The events function as its template configures it: classify and probe (ECR, Secrets Manager,
    SSM, IAM simulation, CloudWatch Logs, EC2), open incidents and contain them (dry-run: reads only;
    enforce: StopServiceDeployment, UpdateService rollback, scale to zero with its tag and scaling
    suspended, then restore), answer PAUSE hooks (ContinueServiceDeployment) and re-queue an undecided
    one (SQS), park a malformed record, record a failed ECS API call, announce on SNS and Slack."""
    events = account.stack.functions()["events"]
    settings = Settings.from_environment(_environment(events))
    ecs_events.install(settings, account.session)
    _probe_runs(account)
    _containment_runs(account, settings)
    _gate_runs(account)
    _invoke(bodies(_two_containers()))  # which stopped container is essential: DescribeTaskDefinition
    _invoke(["{not json"])  # parked on the events DLQ
    _invoke(bodies(_api_error()))
    # An impaired container instance: ListTasks + DescribeTasks name the services on it.
    instance = instance_with_a_task_of(account.session, SERVICE, cluster="ec2-capacity")
    _invoke(bodies(instance_health(instance, "IMPAIRED", 50, cluster="ec2-capacity")))


def _probe_runs(account: DeployedAccount, owner: str = ACCOUNT) -> None:
    """Stops of a service whose task definition uses ECR, a secret, an SSM parameter, awslogs and awsvpc:
    an image, a secrets and a logging failure each run their confirming probes. `owner`: the account the
    service is in (a hub's member: `account.session` is then the test's own session in that account)."""
    created = _diagnosable(account)
    definition = ecs_backends[owner][REGION].describe_task_definition(created["task_definition"])
    account.session.client("ssm").put_parameter(Name="/pairva/db-url", Value="x", Type="SecureString")
    revision = _register(
        account,
        family=definition.family,
        image=f"{owner}.dkr.ecr.{REGION}.amazonaws.com/pairva-frontend:2.0.0",  # never pushed
        secrets=[
            {"name": "DB_PASSWORD", "valueFrom": created["secret"]},
            {"name": "DB_URL", "valueFrom": "/pairva/db-url"},
        ],
        log_group="/ecs/pairva-frontend-missing",
        owner=owner,
    )
    service = ecs_backends[owner][REGION]._get_service("pairva-cluster", "pairva-frontend")
    service.task_definition = revision  # the revision the probes look at: the service's primary one
    for primary in service.deployments:
        primary["taskDefinition"] = revision
    reasons = [
        PULL_ERROR,
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: "
        "unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch secret "
        f"{created['secret']} from secrets manager: AccessDeniedException",
        "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: "
        "failed to create Cloudwatch log stream: ResourceNotFoundException: The specified log group does not exist.",
    ]
    simulate_answer = {"EvaluationResults": [], "IsTruncated": False}
    iam = _probe_iam_stub(account, simulate_answer)
    for number, reason in enumerate(reasons, start=100):
        event = stopped(number, 1, reason=reason)
        event["detail"].update(
            clusterArn=f"arn:aws:ecs:{REGION}:{owner}:cluster/pairva-cluster",
            group="service:pairva-frontend",
            taskDefinitionArn=revision,
        )
        _invoke(bodies(in_account(event, owner)))
    # A new deployment of a revision that asks ECS to create its log group: its preflight (on the
    # deployment event) simulates logs:CreateLogGroup for the execution role.
    creates = _register(
        account,
        family=definition.family,
        image=f"{owner}.dkr.ecr.{REGION}.amazonaws.com/pairva-frontend:1.0.0",
        secrets=[],
        log_group="/ecs/pairva-frontend-created",
        create_group=True,
        owner=owner,
    )
    service.task_definition = creates
    # moto keeps no deployment for an EXTERNAL-controller service: DescribeServices must name this one.
    new = {"id": "ecs-svc/2300", "status": "PRIMARY", "taskDefinition": creates, "rolloutState": "IN_PROGRESS"}
    service.deployments.append({**new, "desiredCount": 1, "runningCount": 0, "pendingCount": 0})
    started = deployment("SERVICE_DEPLOYMENT_IN_PROGRESS", new["id"], 30)
    started["resources"] = [f"arn:aws:ecs:{REGION}:{owner}:service/pairva-cluster/pairva-frontend"]
    _invoke(bodies(in_account(started, owner)))
    service.deployments.remove(service.deployments[-1])
    service.task_definition = revision  # the diagnose runs look at the revision with secrets again
    iam.deactivate()


def _probe_iam_stub(account: DeployedAccount, answer: dict[str, Any]) -> Any:
    """moto has no faithful SimulatePrincipalPolicy: answer it (any number of times) with the real model."""

    def simulate(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return AWSResponse("https://iam.local", 200, {}, None), {**answer, "ResponseMetadata": {"HTTPStatusCode": 200}}

    account.session.events.register("before-call.iam.SimulatePrincipalPolicy", simulate, unique_id="authz-simulate")

    class Registration:
        @staticmethod
        def deactivate() -> None:
            account.session.events.unregister("before-call.iam.SimulatePrincipalPolicy", unique_id="authz-simulate")

    return Registration()


def _diagnosable(account: DeployedAccount) -> dict[str, str]:
    """tests/integration/diagnose_account.py's service, and its secret's ARN."""
    if account.diagnosable is None:
        created = create_diagnosable_service(account.session)
        secret = account.session.client("secretsmanager").describe_secret(SecretId="pairva/db")["ARN"]
        account.diagnosable = {**created, "secret": secret}
    return account.diagnosable


def _register(
    account: DeployedAccount,
    *,
    family: str,
    image: str,
    secrets: list[dict[str, str]],
    log_group: str,
    create_group: bool = False,
    owner: str = ACCOUNT,
) -> str:
    options = {"awslogs-group": log_group, "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}
    if create_group:
        options["awslogs-create-group"] = "true"
    registered = account.session.client("ecs").register_task_definition(
        family=family,
        executionRoleArn=EXECUTION_ROLE.replace(ACCOUNT, owner),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[
            {
                "name": "frontend",
                "image": image,
                "memory": 512,
                "secrets": secrets,
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": options,
                },
            }
        ],
    )
    return str(registered["taskDefinition"]["taskDefinitionArn"])


def _containment_runs(account: DeployedAccount, settings: Settings) -> None:
    """Three services: one rolled back by StopServiceDeployment (after reading its tasks), one by UpdateService
    to its last known good (passing its task definition's roles), one scaled to zero (tagged, scaling
    suspended) and restored."""
    from tests.integration.test_containment import serving  # the containment tests' DescribeServices views

    sandbox = _SandboxView(account)
    create_service(sandbox)  # prod/api, revisions api:1..7
    _give_roles()
    # A task of the failing revision runs: containment first reads the service's tasks (are its failures
    # transient? contain/transient.py; moto launches none for a service, so one is run by hand).
    serving(old_running=2, new_running=1)
    account.session.client("ecs").run_task(
        cluster=CLUSTER,
        taskDefinition=td(6),
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-0123456789abcdef0"]}},
    )
    _invoke(bodies(stopped(1, 1), stopped(2, 2), stopped(3, 3), stopped(4, 4)))
    _invoke(bodies(service_action("SERVICE_STEADY_STATE", 5)))  # resolved: the living message's thread reply

    create_service(sandbox, name="rollback")
    serving(old_running=0, completed=None, name="rollback")
    backend = ecs_backends[ACCOUNT][REGION]
    backend._get_service(CLUSTER, "rollback").deployments[0]["rolloutState"] = "COMPLETED"
    _invoke(bodies(stopped(11, 1, service="rollback")))
    table = StateTable(account.session.client("dynamodb"), settings.state_table_name)
    key = f"{ACCOUNT}/{REGION}/{CLUSTER}/rollback"
    stored = table.load_service(key)
    if stored is not None:
        stored.last_known_good = td(5)
        table.save_service(stored, stored.updated_at)
    ecs_events.install(settings, account.session)
    _invoke(bodies(*(stopped(n, 2 + n / 10, service="rollback") for n in (12, 13, 14))))

    create_service(sandbox, name="zero")
    serving(old_running=0, completed=None, name="zero")
    backend._get_service(CLUSTER, "zero").desired_count = 2
    account.session.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId=f"service/{CLUSTER}/zero",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    _invoke(bodies(*(stopped(n, 3 + n / 10, service="zero") for n in (21, 22, 23))))
    ecs_events.handler({"restore": {"cluster": CLUSTER, "service": "zero"}}, LocalLambdaContext())


@dataclass
class _SandboxView:
    """What tests/integration/service_setup.py reads of a sandbox: its session."""

    account: DeployedAccount

    @property
    def session(self) -> boto3.Session:
        return self.account.session


def _give_roles() -> None:
    """The api revisions run with a task role and an execution role, as real ones do."""
    for definition in ecs_backends[ACCOUNT][REGION].task_definitions.get("api", {}).values():
        definition.task_role_arn, definition.execution_role_arn = TASK_ROLE, EXECUTION_ROLE


def _gate_runs(account: DeployedAccount) -> None:
    """A PAUSE hook of a gated service: answered at once (CONTINUE), then, once its revision has failed
    but fewer times than open an incident, decided again later (a delayed message on the events queue)."""
    create_service(_SandboxView(account), name="gated", tags={"ecs-watchdog:gate": "on"})
    from tests.integration.test_containment import serving

    serving(old_running=2, name="gated")
    _invoke(bodies(_hook("gated", "hook-1")))
    _invoke(bodies(stopped(31, 5, service="gated", reason="Essential container in task exited", exit_code=1)))
    _invoke(bodies(_hook("gated", "hook-2")))


def _hook(service: str, hook_id: str, owner: str = ACCOUNT) -> dict[str, Any]:
    now = datetime.now(UTC)
    cluster_arn = f"arn:aws:ecs:{REGION}:{owner}:cluster/{CLUSTER}"
    # The gate answers only the service's own current deployment: the one `serving` rolls out.
    deployment_arn = f"arn:aws:ecs:{REGION}:{owner}:service-deployment/{CLUSTER}/{service}/2000000000000000006"
    return {
        "version": "0",
        "id": f"00000000-0000-4000-8000-{abs(hash(hook_id)) % 10**12:012d}",
        "detail-type": "ECS Hook State Change",
        "source": "aws.ecs",
        "account": owner,
        "time": now.isoformat().replace("+00:00", "Z"),
        "region": REGION,
        "resources": [deployment_arn],
        "detail": {
            "eventName": "HOOK_AWAITING_ACTION",
            "hookId": hook_id,
            "hookType": "PAUSE",
            "lifecycleStage": "POST_SCALE_UP",
            "expiresAt": (now + timedelta(hours=2)).isoformat(),
            "clusterArn": cluster_arn,
            "serviceArn": f"arn:aws:ecs:{REGION}:{owner}:service/{CLUSTER}/{service}",
            "serviceDeploymentArn": deployment_arn,
        },
    }


def _two_containers() -> dict[str, Any]:
    event = stopped(41, 6, reason="Essential container in task exited", exit_code=1)
    sidecar = {**event["detail"]["containers"][0], "name": "sidecar", "exitCode": 137}
    event["detail"]["containers"].append(sidecar)
    return event


def _api_error() -> dict[str, Any]:
    event = load_event("cloudtrail_register_task_definition_error")
    event.update(account=ACCOUNT, region=REGION)
    event["detail"]["awsRegion"] = REGION
    return event


# --- the other functions --------------------------------------------------------------------------


def sweep_runs(account: DeployedAccount) -> None:
    """Two scheduled runs over a service stuck IN_PROGRESS: the walk (ListClusters, ListServices,
    DescribeServices), the cursor, the incident it opens and announces, then the tick of the services
    the state table's watch index names."""
    function = account.stack.functions()["sweep"]
    create_service(_SandboxView(account), name="stuck")
    backend = ecs_backends[ACCOUNT][REGION]
    stuck = backend._get_service(CLUSTER, "stuck")
    for d in stuck.deployments:
        d["createdAt"] = datetime.now(UTC) - timedelta(hours=3)
    stuck.desired_count, stuck.running_count = 2, 0
    with mock.patch.dict(os.environ, _environment(function)):
        sweep_handler._sweep = None
        try:
            sweep_handler.handler({"source": "aws.scheduler"}, LocalLambdaContext())  # opens: stuck deployment
            sweep_handler.handler({"source": "aws.scheduler"}, LocalLambdaContext())  # ticks the watched service
            for d in stuck.deployments:  # the deployment finished: the next run resolves the incident
                d["rolloutState"], d["runningCount"] = "COMPLETED", 2
            stuck.deployments = stuck.deployments[:1]
            stuck.running_count = 2
            sweep_handler.handler({"source": "aws.scheduler"}, LocalLambdaContext())
        finally:
            sweep_handler._sweep = None


def diagnose_runs(account: DeployedAccount) -> None:
    """A diagnosis asked by task ARN and posted (SNS, Slack webhook), of a service behind a target group:
    every probe runs, secret values read as the template allows."""
    function = account.stack.functions()["diagnose"]
    created = _diagnosable(account)
    if "pairva-lb" not in str(account.session.client("ecs").list_services(cluster="pairva-cluster")):
        _attach_target_group(account)
    diagnose.install(DiagnoseSettings.from_environment(_environment(function)), account.session)
    iam = _probe_iam_stub(account, {"EvaluationResults": [], "IsTruncated": False})
    try:
        diagnose.handler({"taskArn": created["task"], "cluster": "pairva-cluster", "post": True}, LocalLambdaContext())
        diagnose.handler({"cluster": "pairva-cluster", "service": "pairva-lb"}, LocalLambdaContext())
    finally:
        iam.deactivate()
        diagnose._console = None


def _attach_target_group(account: DeployedAccount) -> None:
    ec2, ecs = account.session.client("ec2"), account.session.client("ecs")
    subnet = ec2.describe_subnets()["Subnets"][-1]
    group = account.session.client("elbv2").create_target_group(
        Name="pairva-lb", Protocol="HTTP", Port=3000, VpcId=subnet["VpcId"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    definition = ecs.describe_services(cluster="pairva-cluster", services=["pairva-frontend"])["services"][0]
    ecs.create_service(
        cluster="pairva-cluster",
        serviceName="pairva-lb",
        taskDefinition=definition["taskDefinition"],
        desiredCount=1,
        launchType="FARGATE",
        deploymentController={"type": "EXTERNAL"},
        loadBalancers=[{"targetGroupArn": group, "containerName": "frontend", "containerPort": 3000}],
        networkConfiguration=definition["networkConfiguration"],
    )


def lifecycle_hook_runs(account: DeployedAccount) -> None:
    """A Lambda hook for a revision with an open incident: the service's tags (its mode), DescribeServiceRevisions,
    the service's state, ListServiceDeployments (is it rolling back?) — ECS reads answered by a Stubber with the
    exact params. FAILED in enforce; in dry-run the same reads, and SUCCEEDED (it only says it would fail)."""
    from tests.unit.containment_builders import incident
    from tests.unit.test_lambda_hook_gate import PAYLOAD, REVISION_ARN, SERVICE_KEY, state

    function = account.stack.functions()["lifecycle_hook"]
    table = StateTable(account.session.client("dynamodb"), function.environment["STATE_TABLE_NAME"])
    table.save_service(state(incident(6)), datetime.now(UTC))
    ecs = account.session.client("ecs")
    with Stubber(ecs) as stub:
        stub.add_response(
            "list_tags_for_resource",
            {"tags": [{"key": "team", "value": "payments"}]},
            expected_params={"resourceArn": PAYLOAD["executionDetails"]["serviceArn"]},
        )
        stub.add_response(
            "describe_service_revisions",
            {"serviceRevisions": [{"serviceRevisionArn": REVISION_ARN, "taskDefinition": td(6)}], "failures": []},
            expected_params={"serviceRevisionArns": [REVISION_ARN]},
        )
        stub.add_response(
            "list_service_deployments",
            {"serviceDeployments": []},
            expected_params={
                "cluster": CLUSTER,
                "service": SERVICE,
                "status": ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"],
                "maxResults": 1,
            },
        )
        session = _SessionWith(account.session, ecs)
        lifecycle_hook._gate = build_lambda_hook_gate(_environment(function), session)  # type: ignore[arg-type]
        try:
            answer = lifecycle_hook.handler(PAYLOAD, LocalLambdaContext())
        finally:
            lifecycle_hook._gate = None
        stub.assert_no_pending_responses()
    expected = "FAILED" if function.environment["WATCHDOG_MODE"] == "enforce" else "SUCCEEDED"
    assert answer == {"hookStatus": expected}, (answer, SERVICE_KEY)


@dataclass
class _SessionWith:
    """A session whose ECS client is the stubbed one."""

    session: boto3.Session
    ecs: Any

    def client(self, name: str, **kwargs: Any) -> Any:
        return self.ecs if name == "ecs" else self.session.client(name, **kwargs)


def slack_interactions_runs(account: DeployedAccount) -> None:
    """Slack posting signed presses of the watchdog's buttons to the interactivity function through its real
    handler, cold (the signing secret read, the desk built from the template's environment), and a forged one
    (401). Where the desk acts (approve): an Approve of a proposed rollback (StopServiceDeployment, after the
    fresh DescribeServices and the kill switch) and its Undo (UpdateService back, passing the revision's
    roles), an Approve of a proposed scale to zero (UpdateService, the previous-count tag, scaling suspended)
    and its Undo (tag removed, scaling resumed); each announced (SNS, the bot's message) and audited. In
    every mode: a press by someone not allowed (audited) and an Acknowledge (the incident's item, the message
    edited). Each press is of a button the bot's message shows (tests/integration/slack_requests.py)."""
    function = account.stack.functions()["slack_interactions"]
    environment = _environment(function)
    assert account.bot is not None
    acts = environment["WATCHDOG_MODE"] in ("approve", "enforce")
    # Its own account (check.py OWN_ACCOUNT): the events runs' many failing services would pause containment
    # (correlated failures); the incidents pressed on are opened by the events function as deployed.
    ecs_events.install(Settings.from_environment(_environment(account.stack.functions()["events"])), account.session)
    sandbox = _SandboxView(account)
    create_service(sandbox, name="press")
    from tests.integration.test_containment import serving

    serving(old_running=2, name="press")
    _give_roles()
    _invoke(bodies(*(stopped(n, 6 + n / 100, service="press") for n in (61, 62, 63))))
    if acts:
        create_service(sandbox, name="press-zero")
        serving(old_running=0, completed=None, name="press-zero")
        ecs_backends[ACCOUNT][REGION]._get_service(CLUSTER, "press-zero").desired_count = 2
        account.session.client("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=f"service/{CLUSTER}/press-zero",
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=1,
            MaxCapacity=4,
        )
        _invoke(bodies(*(stopped(n, 7 + n / 100, service="press-zero") for n in (71, 72, 73))))
    with mock.patch.dict(os.environ, environment), mock.patch.object(boto3, "Session", return_value=account.session):
        handler = importlib.reload(slack_interactions).handler  # a cold start of the deployed entry point
        press = SignedPresses(handler, account.bot, f"{ACCOUNT}/{REGION}/{CLUSTER}")
        forged = function_url_event(block_actions(ButtonKind.UNDO), secret="0" * 32)
        assert handler(forged, LocalLambdaContext())["statusCode"] == 401
        results = [press("press", ACKNOWLEDGE, user="U0MALLORY"), press("press", ACKNOWLEDGE)]
        if acts:
            results += [press(service, kind) for service in ("press", "press-zero") for kind in (APPROVE, UNDO)]
    expected = ["Not allowed", "Acknowledged"] + (["Done", "Undone"] * 2 if acts else [])
    assert all(e in r for e, r in zip(expected, results, strict=True)), results


def replay_run(scenario: str, policy: str) -> None:
    """A scenario replayed through the real events handler (replay/watchdog_adapter.py)."""
    run_scenario(load_scenario(os.path.join(SCENARIOS, f"{scenario}.json")), policy)


__all__ = [
    "DeployedAccount",
    "deployed_account",
    "deployment",
    "diagnose_runs",
    "events_function_runs",
    "lifecycle_hook_runs",
    "local_slack",
    "replay_run",
    "slack_interactions_runs",
    "sweep_runs",
]
