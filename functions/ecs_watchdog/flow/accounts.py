"""Organization mode: the events of member accounts, each through a pipeline of its own account.

The hub's own pipeline hands an event of another account (same region) here. An account outside the
configured set is refused (NotWatched: the intake parks the record with the reason; nothing in it is
looked up or acted on). A member whose role the hub cannot assume is reported once (an ERROR log) and
its events are ignored with that reason, without a new AssumeRole per event, for `retry_after`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from ecs_watchdog.events import EcsEvent
from ecs_watchdog.flow.pipeline import Outcome, Pipeline
from ecs_watchdog.incidents.service_ref import ServiceRef

logger = Logger(child=True)


class NotWatched(Exception):
    """An event of an account outside the hub's configured set: parked, never acted on."""


@dataclass
class MemberPipelines:
    build: Callable[[str], Pipeline]  # the pipeline of one member account (assumes its role)
    watched: frozenset[str] | None  # None: every account the hub's bus admits (the organization)
    unreachable: tuple[type[Exception], ...]  # what `build` raises when the role cannot be assumed
    clock: Callable[[], datetime]
    retry_after: timedelta = timedelta(minutes=15)
    _pipelines: dict[str, Pipeline] = field(default_factory=dict)
    _refused: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    def process(self, event: EcsEvent) -> Outcome:
        account = event.account
        if self.watched is not None and account not in self.watched:
            raise NotWatched(
                f"event from account {account}, which is not one this hub watches "
                f"(watchdog:member_accounts: {', '.join(sorted(self.watched))})"
            )
        pipeline = self._pipeline(account)
        return pipeline.process(event) if isinstance(pipeline, Pipeline) else pipeline

    def tick(self, ref: ServiceRef, now: datetime) -> Outcome:
        """A member service's timers (the sweep), through that account's pipeline; a service of an account
        the hub no longer watches (its state outlived the configuration) is left alone, with the reason."""
        if self.watched is not None and ref.account not in self.watched:
            return Outcome("ignored", f"{ref.key}: account {ref.account} is not one this hub watches")
        pipeline = self._pipeline(ref.account)
        return pipeline.tick(ref, now) if isinstance(pipeline, Pipeline) else pipeline

    def _pipeline(self, account: str) -> Pipeline | Outcome:
        """The account's pipeline, or why its events are ignored (its role cannot be assumed)."""
        now = self.clock()
        refused = self._refused.get(account)
        if refused is not None and now - refused[0] < self.retry_after:
            return Outcome("ignored", self._why(account, refused))
        pipeline = self._pipelines.get(account)
        if pipeline is None:
            try:
                pipeline = self.build(account)
            except self.unreachable as error:
                self._refused[account] = (now, str(error)[:300])
                logger.error(
                    "member account unreachable: the hub cannot assume its role; its events are ignored",
                    extra={"account": account, "problem": str(error)[:300], "retry_after_s": self.retry_after.seconds},
                )
                return Outcome("ignored", self._why(account, self._refused[account]))
            self._refused.pop(account, None)
            self._pipelines[account] = pipeline
        return pipeline

    def _why(self, account: str, refused: tuple[datetime, str]) -> str:
        return (
            f"account {account}: the hub cannot assume its role since {refused[0]:%Y-%m-%dT%H:%M:%SZ} "
            f"({refused[1]}); deploy the member stack there (docs/organization.md)"
        )
