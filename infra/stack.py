"""EcsWatchdog: the stack only wires the constructs together."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.alerts import Alerts
from infra.config import WatchdogConfig
from infra.dashboard import HealthDashboard
from infra.functions import TIMEOUT, Functions
from infra.ingest import Ingest
from infra.state import StateTable


class EcsWatchdogStack(Stack):
    """One watchdog per account and region: ingest → functions → alerts, with state and a dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: WatchdogConfig,
        function_code: lambda_.Code | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        alerts = Alerts(self, "Alerts", config=config)
        state = StateTable(self, "State")
        ingest = Ingest(self, "Ingest", consumer_timeout=TIMEOUT, max_receive_count=config.queue_max_receive_count)
        functions = Functions(
            self, "Functions", config=config, ingest=ingest, alerts=alerts, state=state, code=function_code
        )
        HealthDashboard(
            self,
            "Health",
            queue=ingest.queue,
            dead_letter_queue=ingest.dead_letter_queue,
            delivery_dead_letter_queue=ingest.delivery_dead_letter_queue,
            function=functions.events_function,
            topic=alerts.topic,
        )
        self.alerts, self.state, self.ingest, self.functions = alerts, state, ingest, functions
