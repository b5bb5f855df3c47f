"""Lifecycle stages of BLUE_GREEN, LINEAR and CANARY deployments, bake time and PAUSE hooks.

Modelling choices (docs/replay.md):
- The new (green) revision walks PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT,
  POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME and
  CLEAN_UP. SCALE_UP launches the full desired count beside the old (blue) tasks and ends when all of
  them are healthy; failed green tasks are replaced (the throttle applies). The blue tasks are stopped
  only at CLEAN_UP, so a rollback before then never loses a healthy task.
- The production shift takes no time for BLUE_GREEN, one interval for CANARY (canary percent, wait,
  the rest) and (ceil(100 / percent) - 1) intervals for LINEAR; BAKE_TIME lasts `bake_time_minutes`.
- A PAUSE hook at a stage emits HOOK_AWAITING_ACTION and holds the deployment there until
  ContinueServiceDeployment (CONTINUE: next stage; ROLLBACK: roll back) or its timeout (then its
  timeout action, ROLLBACK by default). The circuit breaker keeps counting green failures meanwhile.
- An AWS_LAMBDA hook at a stage holds the deployment there and invokes the hook function at once (a
  `LambdaHookInvocation` the runner hands the watchdog's hook handler): SUCCEEDED goes on to the next stage;
  FAILED, an error or an answer that is not one rolls back (as ECS does); IN_PROGRESS invokes it again after
  `callBackDelay` seconds (default 30) with the `hookDetails` it returned, until the hook's timeout.
- Rolling back a staged deployment stops the green tasks and makes the blue deployment primary again.
"""

from __future__ import annotations

import math
from typing import cast

from ecs_watchdog.replay.scenario import DeploymentConfig
from ecs_watchdog.replay.scheduler.core import SchedulerCore
from ecs_watchdog.replay.scheduler.model import LiveDeployment, LiveService, PendingHook
from ecs_watchdog.replay.scheduler.records import HookEvent, LambdaHookInvocation, SchedulerCommandError
from ecs_watchdog.replay.scheduler.statistics import check_containment
from ecs_watchdog.replay.scheduler.throttle import reset_throttle

STAGES = (
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)


def production_shift_minutes(config: DeploymentConfig) -> float:
    """How long the PRODUCTION_TRAFFIC_SHIFT stage lasts under the deployment strategy."""
    shift = config.traffic_shift
    if shift is None:
        return 0.0
    if config.strategy == "CANARY":
        return shift.interval_minutes
    return (math.ceil(100 / shift.percent) - 1) * shift.interval_minutes


class Lifecycle(SchedulerCore):
    """The lifecycle stages' part of the scheduler."""

    def continue_service_deployment(self, name: str, deployment_id: str, hook_id: str, action: str) -> None:
        """ContinueServiceDeployment: answer the PAUSE hook the deployment awaits (CONTINUE or ROLLBACK)."""
        svc = self._services[name]
        if action not in ("CONTINUE", "ROLLBACK"):
            raise SchedulerCommandError(
                "InvalidParameterException", "The valid values for action are CONTINUE, ROLLBACK."
            )
        dep = next((d for d in svc.history if d.deployment_id == deployment_id), None)
        hook = dep.awaiting if dep is not None else None
        if dep is None or dep.rollout_state != "IN_PROGRESS" or hook is None or hook.hook_id != hook_id:
            raise SchedulerCommandError(
                "InvalidParameterException",
                f"Service deployment {deployment_id} is not awaiting action for lifecycle hook {hook_id}.",
            )
        hook.status = "SUCCEEDED"
        if action == "ROLLBACK":
            self._roll_back_staged(
                svc,
                dep,
                reason=f"Service deployment rolled back by ContinueServiceDeployment at {hook.stage}.",
                cause=f"ContinueServiceDeployment ROLLBACK at {hook.stage}",
            )
        else:
            self._next_stage(svc, dep)
        self._reconcile(svc)

    # -- stages ------------------------------------------------------------------------------------------

    def _begin_stages(self, svc: LiveService, dep: LiveDeployment) -> None:
        self._enter_stage(svc, dep, STAGES[0])

    def _enter_stage(self, svc: LiveService, dep: LiveDeployment, stage: str) -> None:
        dep.stage = stage
        dep.updated_at = self.now
        hook = next((h for h in svc.config.lifecycle_hooks if stage in h.stages), None)
        if hook is not None and hook.target_type == "AWS_LAMBDA":
            invoked = PendingHook(
                hook_id=self._uuid(svc),
                stage=stage,
                expires_at=self.now + hook.timeout_minutes * 60.0,
                timeout_action=hook.timeout_action,
                status="IN_PROGRESS",
                target_type="AWS_LAMBDA",
            )
            dep.hooks.append(invoked)
            self._push(invoked.expires_at, "hook_timeout", svc.spec.name, (dep.deployment_id, invoked.hook_id))
            self._invoke(svc, dep, invoked, ())
            return
        if hook is not None:
            pending = PendingHook(
                hook_id=self._uuid(svc),
                stage=stage,
                expires_at=self.now + hook.timeout_minutes * 60.0,
                timeout_action=hook.timeout_action,
            )
            dep.hooks.append(pending)
            self._out.append(
                HookEvent(self.now, svc.spec.name, dep.deployment_id, pending.hook_id, stage, pending.expires_at)
            )
            self._message(
                svc,
                f"(service {svc.spec.name}) (deployment {dep.deployment_id}) is paused at {stage}: awaiting action.",
            )
            self._push(pending.expires_at, "hook_timeout", svc.spec.name, (dep.deployment_id, pending.hook_id))
            return
        self._run_stage(svc, dep)

    # -- Lambda hooks -------------------------------------------------------------------------------------

    def _invoke(
        self, svc: LiveService, dep: LiveDeployment, hook: PendingHook, details: tuple[tuple[str, object], ...]
    ) -> None:
        source = next((d.revision for d in svc.deployments if d is not dep), None)
        self._invocations.append(
            LambdaHookInvocation(
                self.now, svc.spec.name, dep.deployment_id, hook.hook_id, hook.stage, dep.revision, source, details
            )
        )

    def _lambda_hook(self, name: str, deployment_id: str, hook_id: str) -> tuple[LiveDeployment, PendingHook] | None:
        """The deployment and its Lambda hook, while ECS still waits for the hook's function."""
        dep = next((d for d in self._services[name].deployments if d.deployment_id == deployment_id), None)
        hook = dep.held if dep is not None else None
        if dep is None or hook is None or hook.hook_id != hook_id or dep.rollout_state != "IN_PROGRESS":
            return None
        return dep, hook

    def answer_lambda_hook(self, invocation: LambdaHookInvocation, answer: object) -> str:
        """What ECS does with the function's return value: the next stage, a rollback, or another invocation
        later. Returns the status taken (SUCCEEDED, FAILED, IN_PROGRESS, or `error` for an answer that is not
        one), or `ignored` once the deployment moved on."""
        found = self._lambda_hook(invocation.service, invocation.deployment_id, invocation.hook_id)
        if found is None:
            return "ignored"
        dep, hook = found
        svc = self._services[invocation.service]
        status = answer.get("hookStatus") if isinstance(answer, dict) else None
        if status == "SUCCEEDED":
            hook.status = "SUCCEEDED"
            self._next_stage(svc, dep)
        elif status == "IN_PROGRESS":
            delay = answer.get("callBackDelay", 30) if isinstance(answer, dict) else 30
            details = answer.get("hookDetails") if isinstance(answer, dict) else None
            saved = tuple(sorted(details.items())) if isinstance(details, dict) else ()
            seconds = float(delay) if isinstance(delay, int | float) and delay >= 0 else 30.0
            self._push(self.now + seconds, "hook_callback", svc.spec.name, (dep.deployment_id, hook.hook_id, saved))
        else:
            hook.status = "FAILED"
            status = status if status == "FAILED" else "error"
            why = "returned FAILED" if status == "FAILED" else f"gave no valid hookStatus ({answer!r:.80})"
            if len(svc.deployments) > 1:
                self._roll_back_staged(
                    svc,
                    dep,
                    reason=f"Lifecycle hook at {hook.stage} {why}: rolling back.",
                    cause=f"Lambda hook {status} at {hook.stage}: rollback",
                )
            else:
                self._fail_first_deployment(svc, dep, f"Lifecycle hook at {hook.stage} {why}.", hook.stage, status)
        self._reconcile(svc)
        return str(status)

    def _fail_first_deployment(
        self, svc: LiveService, dep: LiveDeployment, reason: str, stage: str, status: str
    ) -> None:
        """A hook that fails a service's first deployment: nothing to roll back to, so it fails and launches
        nothing more (as the breaker's stall)."""
        dep.rollout_state = "FAILED"
        dep.rollout_state_reason = reason
        dep.service_deployment_status = "STOPPED"
        dep.stalled = True
        dep.updated_at = dep.finished_at = self.now
        svc.last_change = f"Lambda hook {status} at {stage}: deployment failed, launches stopped"
        self._emit_deployment(svc, dep, "SERVICE_DEPLOYMENT_FAILED", "ERROR", reason)
        self._message(svc, f"(service {svc.spec.name}) (deployment {dep.deployment_id}) {reason}")

    def _on_hook_callback(self, svc: LiveService, payload: object) -> None:
        deployment_id, hook_id, details = cast(tuple[str, str, tuple[tuple[str, object], ...]], payload)
        found = self._lambda_hook(svc.spec.name, deployment_id, hook_id)
        if found is not None:
            self._invoke(svc, found[0], found[1], details)

    def _run_stage(self, svc: LiveService, dep: LiveDeployment) -> None:
        stage = dep.stage
        if stage == "SCALE_UP":
            return  # ends in _reconcile_staged, once every green task is healthy
        if stage == "CLEAN_UP":
            self._clean_up(svc, dep)
            return
        minutes = 0.0
        if stage == "PRODUCTION_TRAFFIC_SHIFT":
            minutes = production_shift_minutes(svc.config)
        elif stage == "BAKE_TIME":
            minutes = svc.config.bake_time_minutes
        if minutes > 0:
            self._push(self.now + minutes * 60.0, "stage", svc.spec.name, (dep.deployment_id, stage))
            return
        self._next_stage(svc, dep)

    def _next_stage(self, svc: LiveService, dep: LiveDeployment) -> None:
        assert dep.stage is not None
        self._enter_stage(svc, dep, STAGES[STAGES.index(dep.stage) + 1])

    def _on_stage_timer(self, svc: LiveService, payload: object) -> None:
        deployment_id, stage = cast(tuple[str, str], payload)
        dep = svc.deployments[0] if svc.deployments else None
        if dep is None or dep.deployment_id != deployment_id or dep.rollout_state != "IN_PROGRESS":
            return  # rolled back or superseded while the stage ran
        if dep.stage == stage and dep.held is None:
            self._next_stage(svc, dep)

    def _on_hook_timeout(self, svc: LiveService, payload: object) -> None:
        deployment_id, hook_id = cast(tuple[str, str], payload)
        dep = next((d for d in svc.deployments if d.deployment_id == deployment_id), None)
        hook = dep.held if dep is not None else None
        if dep is None or hook is None or hook.hook_id != hook_id or dep.rollout_state != "IN_PROGRESS":
            return  # answered in time
        hook.status = "TIMED_OUT"
        if hook.timeout_action == "CONTINUE":
            self._next_stage(svc, dep)
            return
        self._roll_back_staged(
            svc,
            dep,
            reason=f"Lifecycle hook at {hook.stage} timed out: rolling back.",
            cause=f"lifecycle hook timeout at {hook.stage}: rollback",
        )

    # -- tasks -------------------------------------------------------------------------------------------

    def _reconcile_staged(self, svc: LiveService) -> None:
        """Green scales to the desired count beside blue (from SCALE_UP on); blue waits for CLEAN_UP."""
        primary = svc.deployments[0]
        desired = svc.desired_count
        if primary.stage != "PRE_SCALE_UP":
            drain_reason = f"Scaling activity initiated by (deployment {primary.deployment_id})"
            self._trim_primary(svc, primary, desired, drain_reason)
            want = desired - len(primary.tasks)
            if want > 0 and not primary.stalled and not self._waiting_for_throttle(svc):
                self._launch(svc, primary, want)
        healthy = sum(1 for t in primary.tasks.values() if t.healthy)
        if primary.stage == "SCALE_UP" and healthy == desired == len(primary.tasks):
            self._next_stage(svc, primary)
        check_containment(svc, self.now)

    def _clean_up(self, svc: LiveService, dep: LiveDeployment) -> None:
        reason = f"Scaling activity initiated by (deployment {dep.deployment_id})"
        for old in svc.deployments[1:]:
            for task in list(old.tasks.values()):
                self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=reason, failure=False)
        self._complete(svc, dep)

    def _roll_back_staged(self, svc: LiveService, dep: LiveDeployment, *, reason: str, cause: str) -> None:
        """Stop the green tasks and give production back to the previous deployment, whose tasks never left."""
        previous = next((d for d in svc.deployments if d is not dep), None)
        if previous is None:
            raise SchedulerCommandError(
                "InvalidParameterException",
                f"Service deployment {dep.deployment_id} has no previous service revision to roll back to.",
            )
        dep.rollout_state = "FAILED"
        dep.rollout_state_reason = reason
        dep.service_deployment_status = "ROLLBACK_SUCCESSFUL"
        dep.rolled_back_to = previous.revision
        dep.updated_at = dep.finished_at = self.now
        drain = f"Scaling activity initiated by (deployment {previous.deployment_id})"
        for task in list(dep.tasks.values()):
            self._stop(svc, task, stop_code="ServiceSchedulerInitiated", reason=drain, failure=False)
        dep.status = "INACTIVE"
        svc.deployments.remove(dep)
        previous.status = "PRIMARY"
        reset_throttle(svc)
        svc.last_change = cause
        svc.steady = False
        self._emit_deployment(svc, dep, "SERVICE_DEPLOYMENT_FAILED", "ERROR", reason)
        self._message(svc, f"(service {svc.spec.name}) (deployment {dep.deployment_id}) {reason}")
