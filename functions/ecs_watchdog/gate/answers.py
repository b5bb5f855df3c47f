"""Each PAUSE hook is answered once: the answer is claimed, made, then remembered. Pure.

ECS delivers `ECS Hook State Change` at least once, and the watchdog decides undecided hooks again
later, so one hook (a service deployment's `hookId`) can come up several times — twice in one SQS batch,
in a later batch, in two containers at once. ContinueServiceDeployment works only while the hook awaits
action; a second call is refused. So before calling, an invocation claims the hook in the state table
with a conditional write (the claim holds for a lease, so a claimer that dies does not keep it), makes
the call, and records the answer; any other invocation that finds the claim or the answer leaves the
hook alone. The store is `aws/hook_answers.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class AnswerStatus(StrEnum):
    CLAIMED = "claimed"  # an invocation is answering it until `lease_until`
    ANSWERED = "answered"  # ECS took the answer, or said the hook no longer awaits one
    RELEASED = "released"  # the claimer could not answer (a passing error): the next one may


class HookAnswerRecord(BaseModel):
    """The stored answer (or claim) of one PAUSE hook of one service deployment."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    service_deployment_arn: str
    hook_id: str
    status: AnswerStatus
    verdict: str  # CONTINUE | ROLLBACK: what was (or is being) answered
    reason: str = ""  # why that verdict
    owner: str = ""  # the invocation that claimed it
    claimed_at: datetime
    lease_until: datetime
    answered_at: datetime | None = None
    outcome: str = ""  # once answered: made | no_longer_awaiting | refused
    hook_expires_at: datetime  # the hook's `expiresAt`: the item is kept a while past it, then expires
    revision: int = 0  # the item's optimistic-locking counter (not stored in the document)

    def held_by_another(self, owner: str, now: datetime) -> bool:
        """Whether someone else answered the hook, or is answering it right now."""
        if self.status is AnswerStatus.ANSWERED:
            return True
        return self.status is AnswerStatus.CLAIMED and self.owner != owner and now < self.lease_until


def claim(
    current: HookAnswerRecord | None,
    *,
    service_deployment_arn: str,
    hook_id: str,
    verdict: str,
    reason: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    hook_expires_at: datetime,
) -> HookAnswerRecord | None:
    """The claim to write for `owner`; None when the hook is answered or another invocation's claim holds."""
    if current is not None and current.held_by_another(owner, now):
        return None
    return HookAnswerRecord(
        service_deployment_arn=service_deployment_arn,
        hook_id=hook_id,
        status=AnswerStatus.CLAIMED,
        verdict=verdict,
        reason=reason,
        owner=owner,
        claimed_at=now,
        lease_until=now + lease,
        hook_expires_at=hook_expires_at,
        revision=current.revision if current is not None else 0,
    )


def answered(claimed: HookAnswerRecord, outcome: str, now: datetime) -> HookAnswerRecord:
    """The claim, settled: nobody answers this hook again."""
    return claimed.model_copy(update={"status": AnswerStatus.ANSWERED, "outcome": outcome, "answered_at": now})


def released(claimed: HookAnswerRecord) -> HookAnswerRecord:
    """The claim, given up without an answer: the next invocation (SQS's retry) may claim it at once."""
    return claimed.model_copy(update={"status": AnswerStatus.RELEASED})
