"""Builds each function's adapters from its environment, once per cold start: the events function
(events.py), the sweep (sweep.py), the diagnose function (diagnose.py); settings.py validates the environment."""
