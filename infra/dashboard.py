"""The watchdog's own health: a CloudWatch dashboard and alarms that page through the alerts topic."""

from __future__ import annotations

from aws_cdk import CfnMapping, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

NAMESPACE = "EcsWatchdog"
SERVICE_DIMENSION = {"service": "ecs-watchdog"}
FIVE_MINUTES = Duration.minutes(5)
# The console's host in each partition the stack may deploy to (cdk.json's target partitions and GovCloud).
CONSOLE_HOSTS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}


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

        def custom(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=name,
                dimensions_map=SERVICE_DIMENSION,
                period=FIVE_MINUTES,
                statistic="Sum",
            )

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(6))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Watchdog alarms", alarms=self.alarms, width=24, height=3),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Events queue",
                left=[queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum")],
                right=[oldest],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Dead-letter queues", left=[dlq_depth, delivery_dlq_depth], width=8),
            cloudwatch.GraphWidget(
                title="Stops seen",
                left=[custom("FailureStops"), custom("BenignStops"), custom("MalformedEvents")],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Function errors and throttles", left=[errors, throttles], width=8),
            cloudwatch.GraphWidget(
                title="Function duration",
                left=[function.metric_duration(period=FIVE_MINUTES, statistic=s) for s in ("p50", "p99", "Maximum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Invocations and concurrency",
                left=[function.metric_invocations(period=FIVE_MINUTES, statistic="Sum")],
                right=[function.metric("ConcurrentExecutions", period=FIVE_MINUTES, statistic="Maximum")],
                width=8,
            ),
        )
        hosts = CfnMapping(self, "ConsoleHosts", mapping={p: {"host": h} for p, h in CONSOLE_HOSTS.items()}, lazy=True)
        stack = Stack.of(self)
        host = hosts.find_in_map(stack.partition, "host")
        # The region in the link: the console otherwise opens the user's last region and finds no dashboard.
        self.console_url = (
            f"https://{host}/cloudwatch/home?region={stack.region}#dashboards/dashboard/{self.dashboard.dashboard_name}"
        )
