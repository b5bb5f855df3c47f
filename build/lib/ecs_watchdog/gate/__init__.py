"""The deployment gate: answers ECS lifecycle hooks from what the watchdog knows about a revision — the
answers themselves (hooks.py, pure), PAUSE hooks through the events function (pause.py), Lambda hooks
through their own function (lambda_hook.py). Both read a revision's verdict the same way (target.py)."""
