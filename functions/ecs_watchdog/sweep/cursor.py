"""Where the sweep's walk over clusters stopped, so the next run resumes there (stored by aws/sweep_cursor.py)."""

from __future__ import annotations

from pydantic import BaseModel


class SweepCursor(BaseModel):
    """Where the walk over clusters stopped: the account, the cluster and the ListServices token of the next page."""

    account: str | None = None  # organization mode: the member account being walked; None: the hub's own
    cluster: str | None = None
    token: str | None = None
    watched_from: str | None = None  # the last service key ticked, when the index was not finished
    laps: int = 0  # completed walks over every cluster
