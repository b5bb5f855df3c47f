#!/usr/bin/env python3
"""CDK entry point: context → WatchdogConfig → EcsWatchdogStack, checked by cdk-nag."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import ConfigError, context_warnings, load_config
from infra.nag import suppress_reviewed_findings
from infra.stack import EcsWatchdogStack


def build_app(app: cdk.App) -> EcsWatchdogStack:
    """Build the watchdog stack into `app` (tests call this with their own App)."""
    context = app.node.get_all_context()
    for warning in context_warnings(context):
        print(f"ecs-watchdog: warning: {warning}", file=sys.stderr)
    config = load_config(context)
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


def main(app: cdk.App | None = None) -> int:
    """Synthesize; a configuration error is one line on stderr and exit status 1 (`cdk synth --debug`,
    which sets CDK_DEBUG, shows the traceback)."""
    app = app or cdk.App()
    try:
        build_app(app)
    except ConfigError as error:
        if os.environ.get("CDK_DEBUG", "").lower() == "true":
            raise
        print(f"ecs-watchdog: configuration error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
