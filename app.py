#!/usr/bin/env python3
"""CDK entry point: context → WatchdogConfig → EcsWatchdogStack, checked by cdk-nag.

Organization mode (infra/organization.py): `watchdog:deployment=hub` builds the watchdog with the hub's
bus, `member` the member template; `watchdog:regions=eu-west-1,us-east-1` one stack per region."""

from __future__ import annotations

import os
import sys

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infra.config import KEYS, ConfigError, context_warnings, load_config
from infra.member import MemberStack
from infra.nag import suppress_reviewed_findings
from infra.organization import KEYS as ORGANIZATION_KEYS
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
    for warning in context_warnings(app.node.get_all_context(), ORGANIZATION_KEYS):
        print(f"ecs-watchdog: warning: {warning}", file=sys.stderr)
    organization, context = split_context(app.node.get_all_context())
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    regions = organization.regions or (os.environ.get("CDK_DEFAULT_REGION"),)
    # One region keeps today's stack name; several are told apart by theirs.
    names = {r: "EcsWatchdog" if len(regions) == 1 else f"EcsWatchdog-{r}" for r in regions}
    stacks: list[cdk.Stack] = []
    if organization.deployment in ("hub", "member") and context.get("watchdog:mode") == "approve":
        # An approval is carried out with the home account's credentials: no member role takes it there yet.
        raise ConfigError(
            "watchdog:mode=approve is not available with watchdog:deployment=hub or member: approvals act "
            "in the watchdog's own account only; use enforce, dry-run or notify in organization mode"
        )
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


def main(app: cdk.App | None = None) -> int:
    """Synthesize; a configuration error is one line on stderr and exit status 1 (`cdk synth --debug`,
    which sets CDK_DEBUG, shows the traceback)."""
    app = app or cdk.App()
    try:
        build_stacks(app)
    except ConfigError as error:
        if os.environ.get("CDK_DEBUG", "").lower() == "true":
            raise
        print(f"ecs-watchdog: configuration error: {error}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
