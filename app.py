#!/usr/bin/env python3
"""CDK entry point: context → WatchdogConfig → EcsWatchdogStack, checked by cdk-nag.

Organization mode (infra/organization.py): `watchdog:deployment=hub` builds the watchdog with the hub's
bus, `member` the member template; `watchdog:regions=eu-west-1,us-east-1` one stack per region."""

from __future__ import annotations

import os

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import KEYS, load_config
from infra.member import MemberStack
from infra.nag import suppress_reviewed_findings
from infra.organization import split_context
from infra.stack import EcsWatchdogStack


def build_app(app: cdk.App) -> EcsWatchdogStack:
    """Build the watchdog stack into `app` (tests call this with their own App); with several regions,
    the first region's (`build_stacks` builds them all)."""
    stacks = build_stacks(app)
    first = stacks[0]
    if not isinstance(first, EcsWatchdogStack):
        raise TypeError("watchdog:deployment=member builds member stacks: use build_stacks")
    return first


def build_stacks(app: cdk.App) -> list[cdk.Stack]:
    organization, context = split_context(app.node.get_all_context())
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    regions = organization.regions or (os.environ.get("CDK_DEFAULT_REGION"),)
    # One region keeps today's stack name; several are told apart by theirs.
    names = {r: "EcsWatchdog" if len(regions) == 1 else f"EcsWatchdog-{r}" for r in regions}
    stacks: list[cdk.Stack] = []
    if organization.deployment == "member":
        mode = next(k for k in KEYS if k.name == "mode").parse("watchdog:mode", context.get("watchdog:mode", "dry-run"))
        for region in regions:
            stacks.append(
                MemberStack(
                    app,
                    names[region].replace("EcsWatchdog", "EcsWatchdogMember"),
                    hub_account=organization.hub_account,
                    enforce=mode == "enforce",
                    env=cdk.Environment(account=account, region=region),
                    description="ecs-watchdog member: forward ECS events to the hub; the roles the hub assumes",
                )
            )
    else:
        config = load_config(context)
        for region in regions:
            stack = EcsWatchdogStack(
                app,
                names[region],
                config=config,
                organization=organization,
                env=cdk.Environment(account=account, region=region),
                description="ecs-watchdog: classify stopped ECS tasks, detect failure loops, notify once",
            )
            suppress_reviewed_findings(stack)
            stacks.append(stack)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(verbose=True))
    return stacks


if __name__ == "__main__":
    app = cdk.App()
    build_stacks(app)
    app.synth()
