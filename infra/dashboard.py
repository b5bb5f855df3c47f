"""The dashboard an operator opens first: incidents, stops, actions, top failing services and recent
incidents, then the watchdog's own health; and the alarms that page through the alerts topic."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import CfnMapping, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecs_watchdog.metrics.catalog import CATALOG, NAMESPACE, SERVICE

SERVICE_DIMENSION = {"service": SERVICE}
FIVE_MINUTES = Duration.minutes(5)
# The console's host in each partition the stack may deploy to (cdk.json's target partitions and GovCloud).
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


# Logs Insights over the handler's structured logs (flow/intake.py `_observe`): which services fail, which
# incidents moved; per-service detail lives in logs, never in metric dimensions (metrics/catalog.py).
TOP_FAILING_SERVICES = [
    'filter message = "event processed" and failure = 1',
    "stats count(*) as failed_stops by service, category",
    "sort failed_stops desc",
    "limit 10",
]
RECENT_INCIDENTS = [
    'filter message = "incident transition"',
    "fields @timestamp, service, transition, incident_kind, category, summary",
    "sort @timestamp desc",
    "limit 20",
]


def custom(name: str) -> cloudwatch.Metric:
    """A dimension-less catalog metric, summed per five minutes."""
    spec = CATALOG[name]
    if spec.dimensions:
        raise ValueError(f"{name} has dimensions {spec.dimensions}: draw it with search()")
    return cloudwatch.Metric(
        namespace=NAMESPACE, metric_name=name, dimensions_map=SERVICE_DIMENSION, period=FIVE_MINUTES, statistic="Sum"
    )


def search(name: str) -> cloudwatch.MathExpression:
    """Every series of a catalog metric with dimensions (one line per dimension set), summed per five minutes."""
    spec = CATALOG[name]
    schema = ",".join([NAMESPACE, *sorted(("service", *spec.dimensions))])
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{{schema}}} MetricName=\"{name}\"', 'Sum', 300)",
        label="",
        period=FIVE_MINUTES,
    )


def graph(
    title: str,
    left: list[cloudwatch.IMetric],
    *,
    right: list[cloudwatch.IMetric] | None = None,
    stacked: bool = True,
    width: int = 8,
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title,
        left=left,
        right=right or [],
        stacked=stacked,
        width=width,
        height=6,
        legend_position=cloudwatch.LegendPosition.RIGHT if width >= 12 else cloudwatch.LegendPosition.BOTTOM,
    )


class HealthDashboard(Construct):
    """Queue depth and age, DLQ depth, function errors/duration/throttles, and what the watchdog saw."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: sqs.IQueue,
        dead_letter_queue: sqs.IQueue,
        delivery_dead_letter_queue: sqs.IQueue,
        function: lambda_.Function,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        page = actions.SnsAction(topic)

        def alarm(name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> cloudwatch.Alarm:
            created = cloudwatch.Alarm(
                self,
                name,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            created.add_alarm_action(page)
            created.add_ok_action(page)
            return created

        dlq_depth = dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        delivery_dlq_depth = delivery_dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        oldest = queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum")
        errors = function.metric_errors(period=FIVE_MINUTES, statistic="Sum")
        throttles = function.metric_throttles(period=FIVE_MINUTES, statistic="Sum")

        self.alarms = [
            alarm(
                "DeadLetterQueueNotEmpty",
                dlq_depth,
                1,
                "ecs-watchdog: events failed processing repeatedly and are in the DLQ; inspect and redrive",
            ),
            alarm(
                "DeliveryDeadLetterQueueNotEmpty",
                delivery_dlq_depth,
                1,
                "ecs-watchdog: EventBridge could not deliver ECS events to the queue",
            ),
            alarm(
                "EventsBacklog",
                oldest,
                900,
                "ecs-watchdog: events wait over 15 minutes in the queue; the function is falling behind",
            ),
            alarm("FunctionErrors", errors, 1, "ecs-watchdog: the events function failed invocations"),
            alarm("FunctionThrottles", throttles, 1, "ecs-watchdog: the events function was throttled"),
        ]

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(6))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Watchdog alarms", alarms=self.alarms, width=24, height=3),
        )
        # What happened to the services: incidents, stops, actions, probes (metrics/catalog.py).
        self.dashboard.add_widgets(
            graph("Incidents over time (by transition)", [search("Incidents")], stacked=False),
            graph("Stops by category", [search("Stops")]),
            graph("Actions taken (by kind and mode)", [search("Actions")]),
        )
        log_groups = [function.log_group.log_group_name]
        self.dashboard.add_widgets(
            cloudwatch.LogQueryWidget(
                title="Top failing services (failed stops)",
                log_group_names=log_groups,
                query_lines=TOP_FAILING_SERVICES,
                view=cloudwatch.LogQueryVisualizationType.TABLE,
                width=10,
                height=7,
            ),
            cloudwatch.LogQueryWidget(
                title="Recent incidents",
                log_group_names=log_groups,
                query_lines=RECENT_INCIDENTS,
                view=cloudwatch.LogQueryVisualizationType.TABLE,
                width=14,
                height=7,
            ),
        )
        self.dashboard.add_widgets(
            graph("Notifications per channel", [search("Notifications")]),
            graph("Probe results", [search("Probes")]),
            graph(
                "Unknown stops and records set aside",
                [custom(name) for name in ("UnknownStops", "ParkedRecords", "MalformedEvents", "FailedRecords")],
                stacked=False,
            ),
        )
        # The watchdog's own health.
        self.dashboard.add_widgets(
            graph(
                "Events queue (depth; age of oldest, s)",
                [queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum")],
                right=[oldest],
                width=6,
            ),
            graph("Dead-letter queues", [dlq_depth, delivery_dlq_depth], stacked=False, width=6),
            graph("Function errors and throttles", [errors, throttles], stacked=False, width=6),
            graph(
                "Function duration p99 (ms)",
                [function.metric_duration(period=FIVE_MINUTES, statistic=s) for s in ("p50", "p99")],
                stacked=False,
                width=6,
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "Invocations and concurrency",
                [function.metric_invocations(period=FIVE_MINUTES, statistic="Sum")],
                right=[function.metric("ConcurrentExecutions", period=FIVE_MINUTES, statistic="Maximum")],
                stacked=False,
                width=12,
            ),
            graph(
                "Cold starts",
                [
                    cloudwatch.Metric(
                        namespace=NAMESPACE,
                        metric_name="ColdStart",
                        dimensions_map={**SERVICE_DIMENSION, "function_name": function.function_name},
                        period=FIVE_MINUTES,
                        statistic="Sum",
                    )
                ],
                stacked=False,
                width=12,
            ),
        )
        hosts = CfnMapping(self, "ConsoleHosts", mapping={p: {"host": h} for p, h in CONSOLE_HOSTS.items()}, lazy=True)
        stack = Stack.of(self)
        host = hosts.find_in_map(stack.partition, "host")
        # The region in the link: the console otherwise opens the user's last region and finds no dashboard.
        self.console_url = (
            f"https://{host}/cloudwatch/home?region={stack.region}#dashboards/dashboard/{self.dashboard.dashboard_name}"
        )


def dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The synthesized dashboard's body as JSON, with each reference to another resource written
    `<LogicalId>` or `<LogicalId.Attribute>` (and pseudo parameters `<AWS::Region>`): what a
    renderer or a test reads without deploying."""
    (resource,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    return dict(json.loads(_resolve(resource["Properties"]["DashboardBody"])))


def _resolve(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_resolve(part) for part in parts)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}>".format(".".join(value["Fn::GetAtt"]))
    if "Fn::FindInMap" in value:
        return "<{}>".format(".".join(_resolve(p) for p in value["Fn::FindInMap"]))
    raise ValueError(f"cannot resolve {value!r} in the dashboard body")
