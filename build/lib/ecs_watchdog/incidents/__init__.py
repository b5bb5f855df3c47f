"""Failure loops and the incident lifecycle (pure): what a stream of stops and deployment events means.

One module per kind of input — `failed_stops.py` (loop rules), `deployments.py`, `service_action_events.py`
(reading the table in `service_action_rules.py`), `timers.py`, `action_outcomes.py` — over the shared
primitives of `lifecycle.py` and the inputs and outputs of `contract.py`; the state itself is `model.py`,
the correlated-failure guard for the account `correlation.py`."""
