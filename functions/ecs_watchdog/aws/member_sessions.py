"""Sessions in member accounts: the hub assumes a member's named role (STS AssumeRole with the hub's
ExternalId) and keeps the credentials until near their expiry, when botocore refreshes them (it
refreshes 15 minutes before expiry, and must 10 minutes before). One session per account and role."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.session import get_session

SESSION_NAME = "ecs-watchdog-hub"


def hub_external_id(hub_account: str) -> str:
    """The ExternalId the hub passes and the member roles require (infra/organization.py puts it there)."""
    return f"ecs-watchdog-hub-{hub_account}"


DURATION_SECONDS = 3600  # the member roles' maximum session (infra/member.py)


class MemberUnreachable(Exception):
    """The hub may not assume the member's role (no role, a trust policy that refuses, an SCP)."""


class MemberSessions:
    def __init__(self, sts: Any, region: str, external_id: str, partition: str = "aws") -> None:
        self._sts = sts
        self._region = region
        self._external_id = external_id
        self._partition = partition
        self._sessions: dict[str, boto3.Session] = {}

    def session(self, account: str, role_name: str) -> boto3.Session:
        """A session in `account` as `role_name`; MemberUnreachable when the role cannot be assumed."""
        role_arn = f"arn:{self._partition}:iam::{account}:role/{role_name}"
        if role_arn not in self._sessions:
            fetch = self._fetcher(role_arn)
            credentials = RefreshableCredentials.create_from_metadata(
                metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
            )
            core = get_session()
            core._credentials = credentials  # botocore's documented way to hand a session refreshable credentials
            self._sessions[role_arn] = boto3.Session(botocore_session=core, region_name=self._region)
        return self._sessions[role_arn]

    def _fetcher(self, role_arn: str) -> Any:
        def fetch() -> dict[str, str]:
            try:
                answer = self._sts.assume_role(
                    RoleArn=role_arn,
                    RoleSessionName=SESSION_NAME,
                    ExternalId=self._external_id,
                    DurationSeconds=DURATION_SECONDS,
                )["Credentials"]
            except ClientError as error:
                code = error.response["Error"]["Code"]
                raise MemberUnreachable(f"{role_arn}: {code}: {error.response['Error'].get('Message', '')}") from error
            except BotoCoreError as error:
                raise MemberUnreachable(f"{role_arn}: {type(error).__name__}: {error}") from error
            return {
                "access_key": answer["AccessKeyId"],
                "secret_key": answer["SecretAccessKey"],
                "token": answer["SessionToken"],
                "expiry_time": answer["Expiration"].isoformat(),
            }

        return fetch
