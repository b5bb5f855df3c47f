"""The seam between the simulator and the watchdog under test.

The simulator owns time and the simulated ECS service; the watchdog only sees EventBridge
envelopes and AWS APIs (moto, plus the simulator's botocore hooks). Keeping the contract this
small lets the same runner drive the real Lambda handler, a dry-run watchdog, or no watchdog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import boto3


@dataclass(frozen=True)
class SentMessage:
    """One message the watchdog sent to people (Slack or SNS), as the simulator records it."""

    channel: str  # "slack" | "sns"
    at: datetime
    text: str


class WatchdogUnderTest(Protocol):
    """What a replay needs from a watchdog: take a batch of events, say what it told people."""

    def deliver(self, envelopes: list[dict[str, Any]]) -> None:
        """Process one batch of EventBridge envelopes, as one SQS batch would be processed."""

    def messages(self) -> list[SentMessage]:
        """Every message sent so far, oldest first."""


# Optional on a WatchdogUnderTest: `answer_lifecycle_hook(payload) -> dict`, what the watchdog's Lambda
# lifecycle hook function returns to ECS for one invocation (the documented payload). Without it a Lambda
# hook answers SUCCEEDED, as if it were not there.


# make_watchdog(session, clock, dry_run) -> WatchdogUnderTest. The session is the boto3 session whose
# clients the watchdog must use: the simulator registers its `before-call.ecs.<Operation>` hooks on it
# before calling the factory, so every ECS call the watchdog makes reaches the simulated service.
WatchdogFactory = Callable[[boto3.Session, Callable[[], datetime], bool], WatchdogUnderTest]
