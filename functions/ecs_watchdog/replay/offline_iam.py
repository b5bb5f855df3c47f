"""The offline sandbox's answer to IAM SimulatePrincipalPolicy, which moto does not implement.

The sandbox holds no IAM policies to evaluate (the simulated task definitions name execution roles that
exist nowhere), so it says so in words: a probe or a preflight that asks IAM shows "cannot check" with
this reason, instead of moto's `NotImplementedError` text. Lambda code never sees it: only sessions made
by the sandbox (replay/) carry the hook.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

CODE = "OfflineSandbox"
MESSAGE = "the offline sandbox cannot evaluate IAM: shown as cannot check"


def answer_simulations(session: boto3.Session) -> None:
    """Answer every SimulatePrincipalPolicy of clients made from `session` with CODE and MESSAGE."""
    session.events.register(
        "before-call.iam.SimulatePrincipalPolicy", _cannot_evaluate, unique_id="ecs-watchdog-offline-iam"
    )


def _cannot_evaluate(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    # A 400 answer: botocore raises it as a ClientError with this code and message.
    parsed = {"Error": {"Code": CODE, "Message": MESSAGE}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    return AWSResponse("https://iam.replay.invalid/", 400, {}, None), parsed
