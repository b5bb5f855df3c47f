"""How the events function's SQS event source batches records unless the deployment says otherwise.

The one home of these defaults: the stack's context keys `watchdog:batch_size` and
`watchdog:batching_window_seconds` (infra/config.py) take them, and so does the simulator's delivery
(replay/scenario.py), so a replay hands the watchdog its events as the deployed stack would.
"""

from __future__ import annotations

BATCH_SIZE = 10  # records per invocation: the most a standard queue's event source takes without a window
BATCHING_WINDOW_SECONDS = 0  # invoke as soon as records arrive: a failure waits for no window
