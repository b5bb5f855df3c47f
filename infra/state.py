"""The watchdog's state table (items are designed by the incident engine; see docs/state.md)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

TTL_ATTRIBUTE = "expires_at"
# Sparse: only service items whose timers can fire without an event carry its keys (aws/state_table.py).
WATCH_INDEX = "watched"


class StateTable(Construct):
    """One on-demand table, keys `pk`/`sk`, TTL on `expires_at`, point-in-time recovery, encrypted."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.RETAIN,  # incident history outlives a stack deletion
        )
        self.table.add_global_secondary_index(
            index_name=WATCH_INDEX,
            partition_key=dynamodb.Attribute(name="gsi1pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="gsi1sk", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,  # the sweep needs the service keys only
        )
        self.watch_index_arn = f"{self.table.table_arn}/index/{WATCH_INDEX}"
