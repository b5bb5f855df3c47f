"""What the classifier promises beyond the category: benign stops, the deciding container,
exit-code meanings, extracted resources, evidence, next steps and runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecs_watchdog.classify import classify_stop
from ecs_watchdog.classify.categories import BENIGN_CATEGORIES, CATEGORIES
from ecs_watchdog.classify.exit_codes import exit_code_meaning, exit_signal
from ecs_watchdog.models import ContainerStop, Stop

REPO = Path(__file__).resolve().parents[2]
TASK = "arn:aws:ecs:eu-west-1:123456789012:task/shop/0123456789abcdef0123456789abcdef"


def stop(stop_code=None, reason=None, containers=(), **extra) -> Stop:
    return Stop(
        task_arn=TASK,
        region="eu-west-1",
        account="123456789012",
        cluster_arn="arn:aws:ecs:eu-west-1:123456789012:cluster/shop",
        group="service:checkout",
        task_definition_arn="arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:12",
        stop_code=stop_code,
        stopped_reason=reason,
        containers=tuple(containers),
        **extra,
    )


@pytest.mark.parametrize(
    ("stop_code", "reason", "category"),
    [
        (
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by (deployment ecs-svc/1234567890123456789)",
            "scaling",
        ),
        ("ServiceSchedulerInitiated", "Service checkout: scaled in", "scaling"),
        ("UserInitiated", "Task stopped by user", "user"),
        ("UserInitiated", "Force restart to pick up new DATABASE_URL secret", "user"),
        ("SpotInterruption", "Your Spot Task was interrupted.", "infrastructure"),
        ("TerminationNotice", "Your Spot Task was interrupted.", "infrastructure"),
        ("InfrastructureHealth", None, "infrastructure"),
    ],
)
def test_benign_stops_are_not_failures(stop_code, reason, category):
    result = classify_stop(stop(stop_code, reason, [ContainerStop(name="app", exit_code=143)]))
    assert (result.category, result.failure) == (category, False)


def test_a_person_stopping_a_task_with_alarming_words_is_still_a_user_stop():
    result = classify_stop(stop("UserInitiated", "OutOfMemoryError: Container killed due to memory usage"))
    assert result.category == "user"


def test_the_essential_container_decides_and_sidecars_are_noted():
    containers = [
        ContainerStop(name="envoy", exit_code=1, reason=None),
        ContainerStop(name="app", exit_code=137, reason="OutOfMemoryError: Container killed due to memory usage"),
    ]
    result = classify_stop(
        stop("EssentialContainerExited", "Essential container in task exited", containers), essential={"app"}
    )
    assert (result.category, result.container, result.sidecars) == ("oom", "app", ("envoy",))


def test_with_essential_containers_known_a_crashing_sidecar_does_not_hide_the_app_exit():
    containers = [ContainerStop(name="log-router", exit_code=2), ContainerStop(name="web", exit_code=1)]
    result = classify_stop(
        stop("EssentialContainerExited", "Essential container in task exited", containers), essential={"web"}
    )
    assert (result.container, result.exit_code, result.category) == ("web", 1, "container_exit")
    assert "general application error" in result.summary


def test_a_sidecar_that_never_started_explains_a_silent_essential_container():
    containers = [
        ContainerStop(name="web"),
        ContainerStop(
            name="log-router", reason="CannotPullContainerError: failed to resolve ref fluent/fluent-bit:9: not found"
        ),
    ]
    result = classify_stop(stop("TaskFailedToStart", "Task failed to start", containers), essential={"web"})
    assert (result.category, result.container, result.image) == ("image", "log-router", "fluent/fluent-bit:9")


def test_a_sidecar_start_failure_does_not_hide_the_essential_containers_own_exit():
    containers = [
        ContainerStop(name="web", exit_code=1),
        ContainerStop(name="xray", reason="CannotStartContainerError: failed to get container status: unknown"),
    ]
    result = classify_stop(
        stop("EssentialContainerExited", "Essential container in task exited", containers), essential={"web"}
    )
    assert (result.container, result.category) == ("web", "container_exit")


def test_without_essential_information_the_most_telling_container_decides():
    containers = [ContainerStop(name="xray", exit_code=143), ContainerStop(name="web", exit_code=1)]
    result = classify_stop(stop("EssentialContainerExited", "Essential container in task exited", containers))
    assert result.container == "web"


def test_sigkill_without_oom_reason_is_told_apart_from_out_of_memory():
    plain = classify_stop(
        stop(
            "EssentialContainerExited",
            "Essential container in task exited",
            [ContainerStop(name="web", exit_code=137)],
        )
    )
    oom = classify_stop(
        stop(
            "EssentialContainerExited",
            "Essential container in task exited",
            [ContainerStop(name="web", exit_code=137, reason="OutOfMemoryError: Container killed due to memory usage")],
        )
    )
    assert (plain.category, plain.signal) == ("container_exit", "SIGKILL")
    assert "stop timeout" in plain.summary
    assert oom.category == "oom"


def test_exit_127_points_at_the_image_command():
    result = classify_stop(
        stop(
            "EssentialContainerExited",
            "Essential container in task exited",
            [ContainerStop(name="web", exit_code=127, image="nginx:1.27")],
        )
    )
    assert (result.category, result.image) == ("image", "nginx:1.27")
    assert "command not found" in result.summary


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "exited successfully"),
        (1, "general application error"),
        (2, "usage error"),
        (126, "not executable"),
        (127, "command not found"),
        (134, "SIGABRT"),
        (137, "SIGKILL"),
        (139, "SIGSEGV"),
        (143, "SIGTERM"),
        (None, "never started"),
        (255, "application-defined"),
        (130, "SIGINT"),
    ],
)
def test_exit_codes_have_meanings(code, words):
    assert words in exit_code_meaning(code)


def test_exit_signal_is_only_for_codes_above_128():
    assert (exit_signal(139), exit_signal(1), exit_signal(None)) == ("SIGSEGV", None, None)


def test_image_not_found_names_the_image_and_links_its_repository():
    image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:v3.3.2"
    reason = (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
        f"failed to resolve ref {image}: {image}: not found"
    )
    result = classify_stop(stop("TaskFailedToStart", reason))
    assert (result.category, result.rule, result.image) == ("image", "image-not-found", image)
    assert image in result.summary
    assert any("ecr/repositories/private/123456789012/checkout?region=eu-west-1" in s for s in result.next_steps)
    assert result.evidence == ("stopCode: TaskFailedToStart", f"stoppedReason: {reason}")


def test_secret_problem_names_the_secret_arn():
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
    reason = (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        f"failed: unable to retrieve secret from asm: service call has been retried 1 time(s): failed to fetch "
        f"secret {arn} from secrets manager: AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/"
        "exec/abc is not authorized to perform: secretsmanager:GetSecretValue on resource: " + arn
    )
    result = classify_stop(stop("TaskFailedToStart", reason))
    assert (result.category, result.rule, result.secret_arn) == ("secrets", "secrets-access-denied", arn)
    assert arn in result.summary


def test_a_timeout_while_fetching_a_secret_is_a_network_problem():
    reason = (
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
        "failed: unable to retrieve secret from asm: service call has been retried 5 time(s): RequestError: "
        'send request failed caused by: Post "https://secretsmanager.eu-west-1.amazonaws.com/": dial tcp '
        "10.0.0.1:443: i/o timeout"
    )
    assert classify_stop(stop("TaskFailedToStart", reason)).category == "network"


def test_elb_health_check_names_the_target_group():
    tg = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout/0123456789abcdef"
    result = classify_stop(stop("ServiceSchedulerInitiated", f"Task failed ELB health checks in (target-group {tg})"))
    assert (result.category, result.target_group_arn) == ("health_check_elb", tg)
    assert any(f"targetGroupArn={tg}" in s for s in result.next_steps)


def test_console_links_use_the_events_region_cluster_and_task():
    result = classify_stop(
        stop(
            "EssentialContainerExited",
            "Essential container in task exited",
            [ContainerStop(name="web", exit_code=1)],
        )
    )
    link = "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/shop/tasks/0123456789abcdef0123456789abcdef"
    assert any(link in step for step in result.next_steps)


def test_unrecognised_text_is_unknown_and_kept_verbatim():
    result = classify_stop(stop("TaskFailedToStart", "The flux capacitor is misaligned"))
    assert (result.category, result.failure) == ("unknown", True)
    assert "stoppedReason: The flux capacitor is misaligned" in result.evidence


def test_every_category_has_a_runbook_with_the_four_sections():
    for category in CATEGORIES:
        text = (REPO / "docs" / "runbooks" / f"{category}.md").read_text()
        for section in ("## Cause", "## How to confirm", "## How to fix", "## How to prevent"):
            assert section in text, f"{category}.md lacks {section}"


def test_benign_categories_are_exactly_the_four_the_vocabulary_names():
    # `completed` came after the first three: a standalone task that did its work (docs/runbooks/completed.md).
    assert {"infrastructure", "scaling", "user", "completed"} == BENIGN_CATEGORIES
