"""Read-only diagnosis, the pure part: probe results, the task definition lint, the service checks,
and which probes a stop category calls for. The AWS look-ups live in `ecs_watchdog.aws.probes`; step.py
runs the confirming probes for the pipeline."""

from ecs_watchdog.diagnose.model import Diagnosis, ProbeName, ProbeResult, ProbeRun, ProbeStatus
from ecs_watchdog.diagnose.plan import confirming_probes, probes_for
from ecs_watchdog.diagnose.references import EcrImage, SecretReference, parse_ecr_image, parse_secret_reference
from ecs_watchdog.diagnose.service import assess_load_balancer, check_service_configuration
from ecs_watchdog.diagnose.task_definition import lint_task_definition, task_definition_problems

__all__ = [
    "Diagnosis",
    "EcrImage",
    "ProbeName",
    "ProbeResult",
    "ProbeRun",
    "ProbeStatus",
    "SecretReference",
    "assess_load_balancer",
    "check_service_configuration",
    "confirming_probes",
    "lint_task_definition",
    "parse_ecr_image",
    "parse_secret_reference",
    "probes_for",
    "task_definition_problems",
]
