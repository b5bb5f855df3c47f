"""Read-only diagnosis, the pure part: probe results (model.py), the task definition lint
(task_definition.py), the service checks (service.py), and which probes a stop category calls for
(plan.py). The AWS look-ups live in `ecs_watchdog.aws.probes`; step.py runs the confirming probes for the
pipeline. Import from the module that holds a name: this package imports nothing, so the events
handler's cold start does not load every probe's checks (they load on the first probe)."""
