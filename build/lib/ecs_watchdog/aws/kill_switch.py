"""The operator's kill switch: an SSM parameter that stops containment without a redeploy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

logger = Logger(child=True)

OFF_VALUES = frozenset({"", "off", "false", "0", "disengaged"})
ON_VALUES = frozenset({"on", "true", "1", "engaged"})


class KillSwitch:
    """Reads the parameter at most once per `max_age_seconds` per warm container.

    A missing parameter means not engaged (it is opt-in). A value that is neither on nor off, or a
    parameter that cannot be read (throttled, access denied), counts as engaged: when in doubt the
    watchdog reports what it would do and does not act. Unreadable is not cached, so it recovers.
    """

    def __init__(
        self,
        client: Any,
        parameter_name: str,
        *,
        max_age_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._name = parameter_name
        self._max_age = max_age_seconds
        self._clock = clock
        self._cached: tuple[float, bool] | None = None

    def engaged(self) -> bool:
        """Whether containment must stop making calls."""
        now = self._clock()
        if self._cached is not None and now - self._cached[0] < self._max_age:
            return self._cached[1]
        try:
            value = self._client.get_parameter(Name=self._name)["Parameter"]["Value"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ParameterNotFound":
                self._cached = (now, False)
                return False
            logger.warning("cannot read the kill switch: treated as engaged", extra={"error": str(error)})
            return True
        except BotoCoreError as error:
            logger.warning("cannot read the kill switch: treated as engaged", extra={"error": str(error)})
            return True
        normalized = value.strip().lower()
        engaged = normalized not in OFF_VALUES
        if normalized not in OFF_VALUES | ON_VALUES:
            logger.warning("kill switch value not understood: treated as engaged", extra={"value": value})
        self._cached = (now, engaged)
        return engaged
