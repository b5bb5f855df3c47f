"""A diagnosis as people and programs read it (pure): the JSON report (contract: docs/diagnose.md) and text.

Failing probes come first, then the ones that could not look, then the passes and the skipped; each
failing or erroring probe says what to check next and which runbook covers it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from ecs_watchdog.diagnose.model import Diagnosis, ProbeName, ProbeResult, ProbeRun, ProbeStatus

REPORT_VERSION = 1

Verdict = Literal["fail", "incomplete", "pass", "unchecked"]

# The order a report lists probes in: what explains failures first, what found nothing last.
STATUS_ORDER: dict[ProbeStatus, int] = {"fail": 0, "error": 1, "pass": 2, "skipped": 3}

# Where to look once a probe has found something (rules as data; one line per step).
NEXT_CHECKS: dict[str, tuple[str, ...]] = {
    ProbeName.TASK_DEFINITION: (
        "Replace every unresolved placeholder (${...}, <...>, REPLACE_ME, changeme), register a new revision "
        "and update the service to it.",
        "Give the task definition an execution role when it uses awslogs or secrets.",
        "Use a cpu/memory pair Fargate accepts, and mark at least one container essential.",
    ),
    ProbeName.SERVICE_CONFIGURATION: (
        "Turn on the deployment circuit breaker with rollback (deploymentConfiguration.deploymentCircuitBreaker).",
        "Keep minimumHealthyPercent above 0 so old tasks keep serving during a bad deployment.",
        "With a load balancer, set healthCheckGracePeriodSeconds to cover the container's start-up.",
    ),
    ProbeName.IMAGE: (
        "Check that the tag or digest was pushed: aws ecr describe-images --repository-name <repo> "
        "--image-ids imageTag=<tag>.",
        "Check that the pipeline pushes the image before it registers the task definition.",
        "For a repository in another account, its repository policy must let this account pull.",
    ),
    ProbeName.SECRETS: (
        "Check each valueFrom: name or ARN, region, and for Secrets Manager the JSON key and version.",
        "A secret scheduled for deletion can be restored: aws secretsmanager restore-secret --secret-id <id>.",
        "A JSON key named in valueFrom (...:key::) must exist in the secret's JSON value.",
    ),
    ProbeName.SECRET_ACCESS: (
        "Allow the execution role secretsmanager:GetSecretValue or ssm:GetParameters on each secret, and "
        "kms:Decrypt on its customer-managed key.",
        "The simulation covers the role's own policies only: check the secret's resource policy and the key policy.",
    ),
    ProbeName.LOGGING: (
        "Create the log group (aws logs create-log-group --log-group-name <group>), or set awslogs-create-group "
        "to true and allow logs:CreateLogGroup to the execution role.",
        "Check awslogs-region: the group must exist in that region.",
    ),
    ProbeName.LOAD_BALANCER: (
        "Make the target group's health check port, path and matcher fit the container (its port mapping and "
        "an endpoint that answers the matcher code).",
        "Read why targets are unhealthy: aws elbv2 describe-target-health --target-group-arn <arn>.",
        "Give slow starters a longer healthCheckGracePeriodSeconds.",
    ),
    ProbeName.NETWORK: (
        "Give the subnets a way out (a NAT gateway, or assignPublicIp ENABLED in a public subnet), or VPC "
        "endpoints for ecr.api, ecr.dkr, s3 (gateway), secretsmanager and logs.",
        "Subnets short of free IP addresses: add subnets or use larger ones.",
    ),
}
COULD_NOT_CHECK = (
    "The probe could not look: check that the caller may make the calls it needs (docs/diagnose.md, "
    "minimal IAM policy), then run the diagnosis again.",
)

# The runbook (docs/runbooks/<name>.md) that covers what each probe checks.
RUNBOOKS: dict[str, str] = {
    ProbeName.TASK_DEFINITION: "task_definition",
    ProbeName.IMAGE: "image",
    ProbeName.SECRETS: "secrets",
    ProbeName.SECRET_ACCESS: "secrets",
    ProbeName.LOGGING: "logging",
    ProbeName.LOAD_BALANCER: "health_check_elb",
    ProbeName.NETWORK: "network",
}


def verdict(diagnosis: Diagnosis) -> Verdict:
    """`fail`: a probe found a cause; `unchecked`: no probe could look (the service or the credentials);
    `incomplete`: nothing found, but some probes could not look; `pass`: every probe that ran passed."""
    statuses = [r.status for r in diagnosis.results]
    if "fail" in statuses:
        return "fail"
    if statuses and all(s == "error" for s in statuses):
        return "unchecked"
    return "incomplete" if "error" in statuses else "pass"


def ordered_runs(diagnosis: Diagnosis) -> list[ProbeRun]:
    """The runs, failing first, then errors, passes and skipped; run order within a status."""
    return sorted(diagnosis.runs, key=lambda run: STATUS_ORDER[run.result.status])


def next_checks(result: ProbeResult) -> tuple[str, ...]:
    """What to check next after this result: the probe's steps for a `fail`, how to let it look for an `error`."""
    if result.status == "fail":
        return NEXT_CHECKS.get(result.name, ())
    if result.status == "error":
        return COULD_NOT_CHECK
    return ()


def runbook_of(result: ProbeResult, runbook_base_url: str | None = None) -> str | None:
    """The runbook link for a failing probe (None for the others, and for probes no runbook covers)."""
    name = RUNBOOKS.get(result.name)
    if result.status != "fail" or name is None:
        return None
    path = f"docs/runbooks/{name}.md"
    return f"{runbook_base_url.rstrip('/')}/{path}" if runbook_base_url else path


def report_json(
    diagnosis: Diagnosis, *, task_arn: str | None = None, runbook_base_url: str | None = None
) -> dict[str, Any]:
    """The report as a JSON-ready dict (docs/diagnose.md); fields are only ever added."""
    counts = Counter(r.status for r in diagnosis.results)
    report: dict[str, Any] = {
        "version": REPORT_VERSION,
        "cluster": diagnosis.cluster,
        "service": diagnosis.service,
        "task_definition": diagnosis.task_definition_arn,
        "verdict": verdict(diagnosis),
        "failing": [r.name for r in diagnosis.failures],
        "counts": {status: counts.get(status, 0) for status in STATUS_ORDER},
        "probes": [_probe_json(run, runbook_base_url) for run in ordered_runs(diagnosis)],
        "api_calls": {"total": len(diagnosis.api_calls), "by_operation": dict(Counter(diagnosis.api_calls))},
        "elapsed_ms": round(diagnosis.elapsed_seconds * 1000),
    }
    if task_arn:
        report["task"] = task_arn
    return report


def _probe_json(run: ProbeRun, runbook_base_url: str | None) -> dict[str, Any]:
    result = run.result
    return {
        "name": result.name,
        "status": result.status,
        "summary": result.summary,
        "evidence": list(result.evidence),
        "resource": result.resource,
        "next_checks": list(next_checks(result)),
        "runbook": runbook_of(result, runbook_base_url),
        "api_calls": list(run.api_calls),
        "elapsed_ms": round(run.elapsed_seconds * 1000),
    }


def headline(diagnosis: Diagnosis) -> str:
    """One line: the service and what the diagnosis found."""
    found = verdict(diagnosis)
    total = len(diagnosis.runs)
    if found == "fail":
        names = ", ".join(r.name for r in diagnosis.failures)
        outcome = f"{len(diagnosis.failures)} of {total} probes found a cause ({names})"
    elif found == "unchecked":
        outcome = "nothing could be checked"
    elif found == "incomplete":
        errors = sum(1 for r in diagnosis.results if r.status == "error")
        outcome = f"no cause found, but {errors} of {total} probes could not look"
    else:
        outcome = f"no cause found by {total} probes"
    return f"{diagnosis.service} in {diagnosis.cluster}: {outcome}"


def report_text(diagnosis: Diagnosis, *, task_arn: str | None = None, runbook_base_url: str | None = None) -> str:
    """The report for people: headline, then each probe (status, summary, resource, evidence, next checks)."""
    lines = [f"ecs-watchdog diagnosis — {headline(diagnosis)}"]
    lines.append(f"Task definition: {diagnosis.task_definition_arn or 'unknown'}")
    if task_arn:
        lines.append(f"Task: {task_arn}")
    for run in ordered_runs(diagnosis):
        lines += ["", *probe_lines(run.result, runbook_base_url)]
    seconds = diagnosis.elapsed_seconds
    lines += ["", f"{len(diagnosis.api_calls)} read-only API calls in {seconds:.2f} s"]
    return "\n".join(lines)


def probe_lines(result: ProbeResult, runbook_base_url: str | None = None) -> list[str]:
    """One probe's block of the text report."""
    lines = [f"[{result.status.upper()}] {result.name}: {result.summary}"]
    if result.resource:
        lines.append(f"  resource: {result.resource}")
    lines += [f"  - {line}" for line in result.evidence]
    steps = next_checks(result)
    if steps:
        lines.append("  check next:")
        lines += [f"    {number}. {step}" for number, step in enumerate(steps, start=1)]
    runbook = runbook_of(result, runbook_base_url)
    if runbook:
        lines.append(f"  runbook: {runbook}")
    return lines
