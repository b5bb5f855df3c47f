"""ecs-watchdog: an event-driven watchdog for Amazon ECS services.

One folder per capability (docs/architecture.md): `events`/`models` are the ground floor; `classify/`,
`incidents/`, `contain/`, `gate/`, `diagnose/`, `sweep/`, `api_errors/` and `announce/` each hold a pure
core and, where the pipeline uses it, its step; `flow/` composes them; `wiring/` builds the adapters;
`aws/` holds the adapters (the only modules that call AWS); `handlers/`, `cli` and `commands/` are entry
points; `replay/` is the simulator, never packaged into Lambda.
"""

__version__ = "0.1.0"
