"""The service's and the account's stored items as the outbox and containment use them: bound to the
store, and changed with an optimistic-lock retry (a lost race reads again and changes again)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from ecs_watchdog.announce.outbox import Outbox, OutboxItem
from ecs_watchdog.conflicts import update_with_retry
from ecs_watchdog.contain import claims
from ecs_watchdog.contain.models import ActionKind, ActionRecord
from ecs_watchdog.contain.step import UpdateAccount, UpdateService
from ecs_watchdog.incidents.contract import Result
from ecs_watchdog.incidents.correlation import AccountState
from ecs_watchdog.incidents.correlation_organization import OrganizationState
from ecs_watchdog.incidents.model import Incident, ServiceState, Transition
from ecs_watchdog.incidents.service_ref import ServiceRef


class StateStore(Protocol):
    def load_service(self, service: str, fresh: bool = False) -> ServiceState | None: ...
    def is_cached(self, service: str) -> bool: ...
    def save_service(self, state: ServiceState, expires_after: datetime) -> ServiceState: ...
    def load_account(self, account: str, fresh: bool = False) -> AccountState | None: ...
    def save_account(self, state: AccountState, now: datetime) -> AccountState: ...
    def load_organization(self, hub: str, fresh: bool = False) -> OrganizationState | None: ...
    def save_organization(self, state: OrganizationState, now: datetime) -> OrganizationState: ...
    def archive_incident(self, incident: Incident) -> None: ...


def service_item(store: StateStore, ref: ServiceRef, now: datetime) -> OutboxItem[ServiceState]:
    """The service's state item (saved to expire after `now`'s retention)."""
    return OutboxItem(
        load=lambda fresh: store.load_service(ref.key, fresh=fresh),
        save=lambda doc: store.save_service(doc, now),
        what=ref.key,
    )


def account_item(store: StateStore, ref: ServiceRef, now: datetime) -> OutboxItem[AccountState]:
    """The item of the service's account (the correlated-failure guard's state)."""
    return OutboxItem(
        load=lambda fresh: store.load_account(ref.account_key, fresh=fresh),
        save=lambda doc: store.save_account(doc, now),
        what=ref.account_key,
    )


def organization_item(store: StateStore, hub: str, now: datetime) -> OutboxItem[OrganizationState]:
    """The hub's organization item (the guard across accounts; `hub`: its account/region)."""
    return OutboxItem(
        load=lambda fresh: store.load_organization(hub, fresh=fresh),
        save=lambda doc: store.save_organization(doc, now),
        what=f"organization {hub}",
    )


def organization_updater(
    store: StateStore, hub: str, now: datetime, pause: Callable[[int], None]
) -> Callable[[Callable[[OrganizationState], OrganizationState | None]], OrganizationState | None]:
    """Apply a change to the organization item, retried on conflict: the pipelines of two accounts update
    it concurrently (a missing item starts empty)."""

    def update(change: Callable[[OrganizationState], OrganizationState | None]) -> OrganizationState | None:
        item = organization_item(store, hub, now)
        return update_with_retry(
            lambda fresh: item.load(fresh) or OrganizationState(key=hub),
            change,
            item.save,
            what=item.what,
            pause=pause,
        )

    return update


def service_updater(
    store: StateStore, outbox: Outbox, ref: ServiceRef, now: datetime, owner: str, pause: Callable[[int], None]
) -> UpdateService:
    """Apply an incidents/ change to the stored service state (retried on conflict); its new transitions
    are leased to `owner`."""

    def update(change: Callable[[ServiceState], Result]) -> tuple[ServiceState, list[Transition]]:
        made: set[str] = set()

        def apply(doc: ServiceState) -> ServiceState | None:
            made.clear()
            result = change(doc)
            if not result.changed:
                return None
            made.update(t.id for t in result.transitions)
            return result.state.model_copy(update={"outbox": outbox.take(result.state.outbox, made, owner)})

        item = service_item(store, ref, now)
        saved = update_with_retry(item.load, apply, item.save, what=item.what, pause=pause)
        if saved is None:
            raise RuntimeError(f"{ref.key}: service state vanished while containing")
        return saved, [t for t in saved.outbox if t.id in made]

    return update


def account_updater(store: StateStore, ref: ServiceRef, now: datetime, pause: Callable[[int], None]) -> UpdateAccount:
    """Apply a change to the stored account state (retried on conflict; a missing account starts empty)."""

    def update(change: Callable[[AccountState], AccountState | None]) -> AccountState | None:
        item = account_item(store, ref, now)
        return update_with_retry(
            lambda fresh: item.load(fresh) or AccountState(account=ref.account_key),
            change,
            item.save,
            what=item.what,
            pause=pause,
        )

    return update


def mark_undone(store: StateStore, ref: ServiceRef, record: ActionRecord, now: datetime) -> str | None:
    """After a restore that took effect: the incident is the person's from now on (contain/claims.undone).
    None when marked (or nothing to mark); otherwise why it could not be, for the answer to say."""
    if not record.took_effect or not record.action.incident_id:
        return None
    revision = record.action.after.task_definition if record.action.kind is ActionKind.REAPPLY_REVISION else None

    def change(state: ServiceState) -> ServiceState | None:
        result = claims.undone(state, record.action.incident_id, revision, now)
        return result.state if result.changed else None

    item = service_item(store, ref, now)
    try:
        update_with_retry(item.load, change, item.save, what=item.what, pause=time.sleep)
    except Exception as error:
        return (
            f"the restore was made, but the watchdog could not record it as yours ({type(error).__name__}): "
            "it may act on this incident again"
        )
    return None
