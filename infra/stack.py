"""EcsWatchdog: the stack only wires the constructs together."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.alerts import Alerts
from infra.config import APP_TAG, WatchdogConfig
from infra.console_events import ConsoleTestEvents
from infra.containment import Containment
from infra.dashboard import HealthDashboard
from infra.diagnose import DiagnoseFunction
from infra.functions import TIMEOUT, Functions
from infra.ingest import Ingest
from infra.interactions import SlackInteractionsFunction
from infra.organization import HubBus, OrganizationConfig, hub_environment
from infra.state import StateTable
from infra.sweep import SweepFunction


class EcsWatchdogStack(Stack):
    """One watchdog per account and region: ingest → functions → alerts, with state and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        function_code: lambda_.Code | None = None,
        organization: OrganizationConfig | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        alerts = Alerts(self, "Alerts", config=config)
        state = StateTable(self, "State")
        ingest = Ingest(self, "Ingest", consumer_timeout=TIMEOUT, max_receive_count=config.queue_max_receive_count)
        functions = Functions(
            self, "Functions", config=config, ingest=ingest, alerts=alerts, state=state, code=function_code
        )
        containment = Containment(
            self,
            "Containment",
            config=config,
            ingest=ingest,
            state=state,
            events_role=functions.events_role,
            code=functions.code,
        )
        health = HealthDashboard(
            self,
            "Health",
            queue=ingest.queue,
            dead_letter_queue=ingest.dead_letter_queue,
            delivery_dead_letter_queue=ingest.delivery_dead_letter_queue,
            function=functions.events_function,
            topic=alerts.topic,
        )
        self.alerts, self.state, self.ingest, self.functions = alerts, state, ingest, functions
        self.health = health
        self.diagnose = DiagnoseFunction(self, "Diagnose", config=config, alerts=alerts, code=functions.code)
        self.test_events = ConsoleTestEvents(
            self,
            "ConsoleTestEvents",
            events_function=functions.events_function,
            diagnose_function=self.diagnose.function,
            create_registry=config.create_test_event_registry,
        )
        self.containment = containment
        self.hub: HubBus | None = None
        if organization is not None and organization.deployment == "hub":
            # Organization mode: the members' events arrive on the hub's bus; look-ups go through their roles.
            self.hub = HubBus(self, "Hub", organization=organization)
            ingest.forward_from(self.hub.bus)
            HubBus.assume_member_roles(functions.events_role, organization, contain=config.mode == "enforce")
            for name, value in hub_environment(organization, self.account, enforce=config.mode == "enforce").items():
                functions.events_function.add_environment(name, value)
        ingest.only_these_may_send([functions.events_role.role_arn, *config.queue_senders])
        self.sweep = (
            SweepFunction(self, "Sweep", config=config, alerts=alerts, state=state, code=function_code)
            if config.sweep_minutes
            else None
        )
        # Slack's buttons: only with the app's signing secret (watchdog:slack_signing_secret_name).
        self.interactions = (
            SlackInteractionsFunction(
                self,
                "SlackInteractions",
                config=config,
                alerts=alerts,
                state=state,
                kill_switch=containment.kill_switch,
                code=functions.code,
            )
            if config.slack_signing_secret_name
            else None
        )
        if self.hub is not None and organization is not None:
            # The sweep walks and ticks the members' services, the diagnose function diagnoses one, both through
            # the members' read roles; neither contains.
            readers = [(self.diagnose.role, self.diagnose.function)]
            readers += [(self.sweep.role, self.sweep.function)] if self.sweep is not None else []
            for role, function in readers:
                HubBus.assume_member_roles(role, organization, contain=False)
                for name, value in hub_environment(organization, self.account, enforce=False).items():
                    function.add_environment(name, value)
        for key, value in (APP_TAG, *config.tags):
            Tags.of(self).add(key, value)
        self._outputs()

    def _outputs(self) -> None:
        """What an operator needs after a deploy: where alerts go, the queues to inspect, the dashboard."""
        outputs = {
            "AlertsTopicArn": (self.alerts.topic.topic_arn, "SNS topic the watchdog and its alarms publish to"),
            "EventsQueueUrl": (self.ingest.queue.queue_url, "SQS queue of ECS events the function drains"),
            "EventsDlqUrl": (
                self.ingest.dead_letter_queue.queue_url,
                "events that failed processing or were parked; inspect, then redrive",
            ),
            "DeliveryDlqUrl": (
                self.ingest.delivery_dead_letter_queue.queue_url,
                "events EventBridge could not deliver to the events queue",
            ),
            "EventsFunctionName": (self.functions.events_function.function_name, "the events Lambda function"),
            "DiagnoseFunctionName": (self.diagnose.function.function_name, "the diagnose Lambda function (console)"),
            "StateTableName": (self.state.table.table_name, "DynamoDB table of service and incident state"),
            "DashboardUrl": (self.health.console_url, "CloudWatch dashboard of the watchdog's own health"),
        }
        outputs |= {
            "LifecycleHookFunctionArn": (
                self.containment.hook_function.function_arn,
                "the deployment gate: hookTargetArn of a service's Lambda lifecycle hook",
            ),
            "LifecycleHookRoleArn": (
                self.containment.hook_invoke_role.role_arn,
                "roleArn of that lifecycle hook: ECS assumes it to invoke the function",
            ),
            "KillSwitchParameter": (
                self.containment.kill_switch.parameter_name,
                "SSM parameter: set it to on to stop containment at once (off to resume)",
            ),
        }
        if self.interactions is not None:
            outputs["SlackInteractivityUrl"] = (
                self.interactions.url.url,
                "paste into the Slack app: Interactivity & Shortcuts → Request URL (docs/slack-app.md)",
            )
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)
