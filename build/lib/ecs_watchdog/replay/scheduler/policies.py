"""Replay policies as deployment configurations: what each policy does to a service's circuit breaker."""

from __future__ import annotations

from dataclasses import replace

from ecs_watchdog.replay.scenario import DeploymentConfig, Scenario

BEST_BREAKER_COUNT = 3  # thresholdConfiguration COUNT 3: the breaker's best tuning (issue 16)


def policy_configs(scenario: Scenario, policy: str) -> dict[str, DeploymentConfig]:
    """Each service's deployment configuration under a policy.

    `none` forces the breaker off (what most seeds had), `circuit-breaker` forces it on with rollback
    (keeping any threshold tuning the scenario gives), `circuit-breaker-best` forces it on with rollback
    at its best tuning since 2026 (COUNT 3, resetOnHealthyTask false), the watchdog policies keep the
    scenario's own.
    """
    configs: dict[str, DeploymentConfig] = {}
    for spec in scenario.services:
        breaker = spec.deployment.breaker
        if policy == "none":
            breaker = replace(breaker, enable=False, rollback=False)
        elif policy == "circuit-breaker":
            breaker = replace(breaker, enable=True, rollback=True)
        elif policy == "circuit-breaker-best":
            breaker = replace(
                breaker,
                enable=True,
                rollback=True,
                threshold_type="COUNT",
                threshold_value=BEST_BREAKER_COUNT,
                reset_on_healthy_task=False,
            )
        configs[spec.name] = replace(spec.deployment, breaker=breaker)
    return configs
