#!/usr/bin/env python3
"""CDK entry point: context → WatchdogConfig → EcsWatchdogStack, checked by cdk-nag."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import load_config
from infra.nag import suppress_reviewed_findings
from infra.stack import EcsWatchdogStack


def build_app(app: cdk.App) -> EcsWatchdogStack:
    """Build the watchdog stack into `app` (tests call this with their own App)."""
    config = load_config(app.node.get_all_context())
    stack = EcsWatchdogStack(
        app,
        "EcsWatchdog",
        config=config,
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
        description="ecs-watchdog: classify stopped ECS tasks, detect failure loops, notify once",
    )
    suppress_reviewed_findings(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build_app(app)
    app.synth()
