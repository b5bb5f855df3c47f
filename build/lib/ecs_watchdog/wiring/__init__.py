"""Builds each function's adapters from its environment, once per cold start: the events function
(events.py), the sweep (sweep.py), the diagnose function (diagnose.py), the Lambda lifecycle hook
(lifecycle_hook.py); settings.py validates the events function's and the sweep's environment."""
