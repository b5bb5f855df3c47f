"""The scheduled sweep: timers of quiet services, then every cluster and service, bounded and resumable.

(b) first, because it is cheap and only the sweep can do it: the services the watchdog holds state for
whose timers can fire without an event (the state table's sparse `watched` index) get a timer tick —
a stuck deployment opens, a resolved incident closes, an undelivered announcement goes out.
(a) then walks every cluster's services from where the last run stopped (a cursor item), 10 at a time,
judges each (`sweep/judgement.py`) and sends the synthetic events it calls for through `Pipeline.process`.
A run stops at `max_services`, at its time budget (below the function's timeout) or when ECS keeps
throttling after botocore's retries; the next run resumes from the cursor. In organization mode the walk
goes on, account by account, through each member account's own inventory (its read role); the cursor
names the account too. A member whose inventory cannot be had (its role cannot be assumed, or refuses
ListClusters) is reported and skipped: one member's trouble never stalls the others. No boto3 here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aws_lambda_powertools import Logger

from ecs_watchdog.events import EcsEvent
from ecs_watchdog.incidents.policy import LoopPolicy
from ecs_watchdog.incidents.service_ref import ServiceRef
from ecs_watchdog.sweep.cursor import SweepCursor
from ecs_watchdog.sweep.judgement import DescribedService, SweepFlag, sweep_service

logger = Logger(child=True)


class Inventory(Protocol):
    def clusters(self) -> list[str]: ...
    def service_page(self, cluster: str, token: str | None) -> tuple[list[str], str | None]: ...
    def describe(self, cluster: str, service_arns: list[str]) -> list[DescribedService]: ...


class WatchedServices(Protocol):
    def watched_services(self, limit: int, start: str | None = None) -> tuple[list[str], str | None]: ...


class Cursors(Protocol):
    def load(self) -> SweepCursor: ...
    def save(self, cursor: SweepCursor) -> None: ...


@dataclass
class SweepReport:
    """What one run did: for logs, metrics and the measurements in the docs."""

    ticked: int = 0
    services_checked: int = 0
    pages: int = 0
    events: int = 0
    transitions: int = 0
    findings: dict[str, int] = field(default_factory=dict)  # flag → services
    flagged: list[str] = field(default_factory=list)  # `cluster/service: flag detail`, first 50
    errors: list[str] = field(default_factory=list)
    stopped: str = "done"  # done | max_services | time_budget | ecs_error
    lap_completed: bool = False


@dataclass
class Sweep:
    """One sweep run over the given adapters. `process` is `Pipeline.process`; `tick` runs a service's
    timers (`Pipeline.tick`)."""

    inventory: Inventory
    watched: WatchedServices
    cursors: Cursors
    process: Callable[[EcsEvent], Any]
    tick: Callable[[ServiceRef, datetime], Any]
    policy: LoopPolicy
    clock: Callable[[], datetime]
    budget_seconds: float = 45.0
    max_services: int = 500
    max_watched: int = 200
    monotonic: Callable[[], float] = time.monotonic
    members: tuple[str, ...] = ()  # organization mode: member accounts walked after the hub's own, in order
    member_inventory: Callable[[str], Inventory] | None = None  # a member's inventory, through its read role

    def run(self) -> SweepReport:
        """Tick the watched services, then sweep from the cursor until done, bounded or refused."""
        report = SweepReport()
        deadline = self.monotonic() + self.budget_seconds
        cursor = self.cursors.load()
        cursor = self._tick_watched(cursor, report, deadline)
        if report.stopped == "done":
            cursor = self._walk(cursor, report, deadline)
        self.cursors.save(cursor)
        logger.info(
            "sweep finished",
            extra={k: v for k, v in report.__dict__.items() if k not in ("flagged",)} | {"cursor": cursor.model_dump()},
        )
        return report

    def _tick_watched(self, cursor: SweepCursor, report: SweepReport, deadline: float) -> SweepCursor:
        start = done = cursor.watched_from
        while report.ticked < self.max_watched:
            keys, start = self.watched.watched_services(min(100, self.max_watched - report.ticked), start)
            for key in keys:
                if self.monotonic() >= deadline:
                    report.stopped = "time_budget"
                    return cursor.model_copy(update={"watched_from": done})
                account, region, cluster, name = key.split("/", 3)
                try:
                    self.tick(ServiceRef(account, region, cluster, name), self.clock())
                except Exception as error:  # one service's trouble never stops the sweep; its timers fire next run
                    report.errors.append(f"{key}: {type(error).__name__}: {error}"[:300])
                report.ticked, done = report.ticked + 1, key
            if start is None:
                return cursor.model_copy(update={"watched_from": None})
        return cursor.model_copy(update={"watched_from": start})

    def _walk(self, cursor: SweepCursor, report: SweepReport, deadline: float) -> SweepCursor:
        """Every account's clusters from the cursor: the hub's own (None), then each member's."""
        accounts: list[str | None] = [None, *self.members]
        if cursor.account not in accounts:  # a member no longer configured: start that lap over
            cursor = cursor.model_copy(update={"account": None, "cluster": None, "token": None})
        position = accounts.index(cursor.account)
        while position < len(accounts):
            account = accounts[position]
            inventory = self._inventory(account, report)
            if inventory is not None:
                cursor, finished = self._walk_account(inventory, account, cursor, report, deadline)
                if not finished:
                    return cursor
            position += 1
            following = accounts[position] if position < len(accounts) else None
            cursor = cursor.model_copy(update={"account": following, "cluster": None, "token": None})
        report.lap_completed = True
        return cursor.model_copy(update={"account": None, "cluster": None, "token": None, "laps": cursor.laps + 1})

    def _inventory(self, account: str | None, report: SweepReport) -> Inventory | None:
        if account is None:
            return self.inventory
        if self.member_inventory is None:
            return None
        try:
            return self.member_inventory(account)
        except Exception as error:  # its role cannot be assumed: reported, and the walk goes on to the next
            report.errors.append(f"account {account}: {type(error).__name__}: {error}"[:300])
            logger.error("sweep: member account skipped", extra={"account": account, "problem": str(error)[:300]})
            return None

    def _walk_account(
        self, inventory: Inventory, account: str | None, cursor: SweepCursor, report: SweepReport, deadline: float
    ) -> tuple[SweepCursor, bool]:
        """One account's clusters from the cursor; (cursor, True) when the account's lap is done or it was
        skipped, (cursor, False) when the run stops here."""
        try:
            clusters = inventory.clusters()
        except Exception as error:
            where = "ListClusters" if account is None else f"account {account}: ListClusters"
            report.errors = [*report.errors, f"{where}: {error}"[:300]]
            if account is None:
                report.stopped = "ecs_error"
                return cursor, False
            # A member refusing (a member stack older than the sweep's grants, an SCP): the others go on.
            logger.error("sweep: member account skipped", extra={"account": account, "problem": str(error)[:300]})
            return cursor, True
        if cursor.cluster not in clusters:
            cursor = cursor.model_copy(update={"cluster": clusters[0] if clusters else None, "token": None})
        position = clusters.index(cursor.cluster) if cursor.cluster else len(clusters)
        while position < len(clusters):
            cluster = clusters[position]
            if report.services_checked >= self.max_services or self.monotonic() >= deadline:
                report.stopped = "max_services" if report.services_checked >= self.max_services else "time_budget"
                return cursor, False
            try:
                arns, next_token = inventory.service_page(cluster, cursor.token)
                services = inventory.describe(cluster, arns)
            except Exception as error:  # throttled past botocore's retries, or refused: resume here next run
                report.stopped = "ecs_error"
                report.errors.append(f"{cluster}: {type(error).__name__}: {error}"[:300])
                return cursor, False
            report.pages += 1
            for service in services:
                self._judge(service, report)
            if next_token:
                cursor = cursor.model_copy(update={"cluster": cluster, "token": next_token})
                continue
            position += 1
            cursor = cursor.model_copy(update={"cluster": clusters[position] if position < len(clusters) else None})
            cursor = cursor.model_copy(update={"token": None})
        return cursor, True

    def _judge(self, service: DescribedService, report: SweepReport) -> None:
        report.services_checked += 1
        judged = sweep_service(service, self.clock(), self.policy)
        label = service.ref.label if service.ref else service.arn
        for finding in judged.findings:
            report.findings[finding.flag] = report.findings.get(finding.flag, 0) + 1
            if len(report.flagged) < 50 and finding.flag is not SweepFlag.CIRCUIT_BREAKER_OFF:
                report.flagged.append(f"{label}: {finding.flag} {finding.detail}")
        for event in judged.events:
            try:
                outcome = self.process(event)
            except Exception as error:  # e.g. a channel down: the engine kept it, the next run delivers it
                report.errors.append(f"{label}: {type(error).__name__}: {error}"[:300])
                continue
            report.events += 1
            report.transitions += len(getattr(outcome, "transitions", ()))
