"""The one message for an incident opened and contained at once reaches email subscribers that filter on
either transition: `transition` is a String.Array (SNS matches a filter when any value matches)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from ecs_watchdog.announce.channels import SnsChannel
from ecs_watchdog.aws.sns import SnsTopic
from tests.unit.test_one_message_per_incident import CONTAINED, OPENED, REF


@mock_aws
def test_subscribers_filtering_on_opened_or_on_contained_both_get_the_combined_message():
    sns, sqs = boto3.client("sns", region_name="us-east-1"), boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queues = {}
    for kind in ("opened", "contained", "resolved"):
        url = sqs.create_queue(QueueName=kind)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"FilterPolicy": json.dumps({"transition": [kind]})},
        )
        queues[kind] = url
    SnsChannel(SnsTopic(sns, topic)).send_together(OPENED, CONTAINED, REF)
    got = {k: sqs.receive_message(QueueUrl=u, MaxNumberOfMessages=10).get("Messages", []) for k, u in queues.items()}
    assert len(got["opened"]) == 1 and len(got["contained"]) == 1 and got["resolved"] == []
    attribute = json.loads(got["opened"][0]["Body"])["MessageAttributes"]["transition"]
    assert attribute["Type"] == "String.Array" and json.loads(attribute["Value"]) == ["opened", "contained"]
