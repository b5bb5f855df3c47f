"""An error as people read it on a terminal: one line, saying what failed and, where it can, what to do."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, ProfileNotFound

NO_CREDENTIALS = "no AWS credentials: run `aws configure` or `aws sso login`, set AWS_PROFILE, or give --profile"


def one_line(error: BaseException) -> str:
    """An exception as one line: its type where the message does not say it, and its first line of text."""
    if isinstance(error, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(error, NoRegionError):
        return "no AWS region: give --region, or set AWS_REGION or the profile's region"
    if isinstance(error, ProfileNotFound):
        return f"{error} (see `aws configure list-profiles`)"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        message = " ".join(str(details.get("Message", "")).split())
        return f"{error.operation_name}: {details.get('Code')}: {message}"
    if isinstance(error, BotoCoreError):
        return " ".join(str(error).split())
    if isinstance(error, ModuleNotFoundError):
        return f"{error.name or error} is not installed: install the extras this command needs (README, Quickstart)"
    text = " ".join(str(error).split()) or "(no message)"
    return text if isinstance(error, OSError) else f"{type(error).__name__}: {text}"
