"""ecs-watchdog: an event-driven watchdog for Amazon ECS services.

Floors run one way: `models`/`events` → `classify` → `notify` → `pipeline`; `aws/` adapters are the
only modules that import boto3; `handlers/` and `cli` are entry points; `replay/` is the simulator.
"""

__version__ = "0.1.0"
