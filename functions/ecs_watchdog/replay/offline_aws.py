"""moto, as every offline replay and sandbox runs it: in this process, with nothing reaching AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from moto import mock_aws

# moto builds its catalogue of public AMIs (thousands of images) for every account and region EC2 is
# first touched in: about a second each. No scenario launches an instance from one.
WITHOUT_PUBLIC_AMIS = {"MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}


@contextmanager
def offline_aws(environment: dict[str, str] | None = None) -> Iterator[None]:
    """moto's `mock_aws`, with `environment` set for the block (credentials, `MOTO_ACCOUNT_ID`)."""
    with mock.patch.dict(os.environ, {**WITHOUT_PUBLIC_AMIS, **(environment or {})}), mock_aws():
        yield
