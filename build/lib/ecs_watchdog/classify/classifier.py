"""classify_stop: why did this task stop? Pure: a Stop in, a Classification out, never an exception."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import lru_cache

from ecs_watchdog.classify import links
from ecs_watchdog.classify.categories import CATEGORIES, runbook_path
from ecs_watchdog.classify.exit_codes import exit_code_meaning, exit_signal
from ecs_watchdog.classify.rules import NO_STOP_CODE, Rule, default_rules
from ecs_watchdog.models import Classification, ContainerStop, Stop

_OOM = re.compile(r"outofmemory|out of memory|oom[- ]?kill|memory usage|exceeded (?:its )?memory", re.IGNORECASE)
_SECRET_ARN = re.compile(r"arn:aws[\w-]*:(?:secretsmanager|ssm):[^\s\"',;)]+")
_TARGET_GROUP_ARN = re.compile(r"arn:aws[\w-]*:elasticloadbalancing:[^\s\"',;)]+:targetgroup/[^\s\"',;)]+")
_IMAGE_IN_TEXT = re.compile(
    r"(?:failed to resolve ref|manifest for|pull access denied for|pulling image|pull image|image)\s+\"?"
    r"(?P<image>[\w.\-]+(?::\d+)?/[\w.\-/]+(?::[\w.\-]+|@sha256:[0-9a-f]{64})?"
    r"|[\w.\-]+(?::[\w.\-]+|@sha256:[0-9a-f]{64}))",
    re.IGNORECASE,
)
_LOG_GROUP_IN_TEXT = re.compile(r"log[- ]group[:=\s]+['\"]?(?P<log_group>/[\w/.\-#]+)", re.IGNORECASE)
_MAX_EVIDENCE = 1000  # characters per verbatim fragment; ECS reasons are at most ~1 KB anyway


def _rank(container: ContainerStop) -> int:
    """How likely this container caused the stop: lower is likelier."""
    if container.reason and _OOM.search(container.reason):
        return 0
    if container.reason:
        return 1
    if container.exit_code not in (None, 0, 137, 143):
        return 2
    if container.exit_code == 137:
        return 3
    if container.exit_code == 143:
        return 4
    if container.exit_code == 0:
        return 5
    return 6


def _deciding_container(
    containers: tuple[ContainerStop, ...], essential: Collection[str] | None
) -> tuple[ContainerStop | None, tuple[str, ...]]:
    """The container that caused the stop (essential ones first) and the other stopped containers."""
    if not containers:
        return None, ()
    order = sorted(
        range(len(containers)),
        key=lambda i: (
            essential is not None and containers[i].name not in essential,
            _rank(containers[i]),
            i,
        ),
    )
    deciding = containers[order[0]]
    if not deciding.reason and deciding.exit_code is None:
        # A sidecar that could not be pulled, created or started fails the whole task before the
        # essential container runs, which then says nothing: the sidecar's own reason is the cause.
        never_started = next(
            (containers[i] for i in order if containers[i].reason and containers[i].exit_code is None), None
        )
        deciding = never_started or deciding
    sidecars = tuple(c.name for c in containers if c is not deciding and (c.reason or c.exit_code not in (None, 0)))
    return deciding, sidecars


def _ran_to_completion(containers: tuple[ContainerStop, ...], essential: Collection[str] | None) -> bool:
    """Every essential container (every container, when which are essential is unknown) finished cleanly:
    it exited 0, or 143 when ECS stopped it with SIGTERM after another one finished; at least one exited 0,
    and none has a reason (ECS gives one when it could not pull, start or keep a container)."""
    judged = [c for c in containers if essential is None or c.name in essential]
    return (
        bool(judged)
        and all(not c.reason and c.exit_code in (0, 143) for c in judged)
        and any(c.exit_code == 0 for c in judged)
    )


def _finished_container(
    containers: tuple[ContainerStop, ...], essential: Collection[str] | None
) -> tuple[ContainerStop, tuple[str, ...]]:
    """For a task that ran to completion: the (essential) container that exited 0, and the others that
    were stopped after it."""
    finished = next(
        c for c in containers if c.exit_code == 0 and not c.reason and (essential is None or c.name in essential)
    )
    return finished, tuple(c.name for c in containers if c is not finished and c.exit_code not in (None, 0))


def _is_standalone(stop: Stop) -> bool:
    """A task no service runs: RunTask, a scheduled task, a batch job (its group is `family:<name>`)."""
    return not stop.service and not stop.started_by.startswith("ecs-svc/")


def _rule_holds(
    rule: Rule,
    stop_code: str,
    texts: tuple[str, ...],
    deciding: ContainerStop | None,
    standalone: bool,
    completed: bool,
):
    """Whether every condition of the rule holds; returns the regex match (or True) when it does."""
    if rule.stop_codes is not None and stop_code not in rule.stop_codes:
        return None
    if (rule.standalone and not standalone) or (rule.ran_to_completion and not completed):
        return None
    exit_code = deciding.exit_code if deciding else None
    if rule.exit_codes is not None and exit_code not in rule.exit_codes:
        return None
    if rule.oom_reason and not (deciding and deciding.reason and _OOM.search(deciding.reason)):
        return None
    if rule.text is None:
        return True
    for text in texts:
        match = rule.text.search(text)
        if match:
            return match
    return None


_MATCHERS: dict[int, tuple[tuple[Rule, ...], Callable[..., tuple[Rule, dict[str, str]]]]] = {}


def _matcher(rules: tuple[Rule, ...]) -> Callable[..., tuple[Rule, dict[str, str]]]:
    """A cached first-match function for one rule table (cached by identity: hashing the table on
    every call cost more than matching it)."""
    entry = _MATCHERS.get(id(rules))
    if entry is not None and entry[0] is rules:
        return entry[1]

    # Cached because a crash loop repeats the same texts thousands of times; the rest is cheap.
    @lru_cache(maxsize=4096)
    def match(
        stop_code: str, texts: tuple[str, ...], deciding: ContainerStop | None, standalone: bool, completed: bool
    ) -> tuple[Rule, dict[str, str]]:
        for rule in rules:
            found = _rule_holds(rule, stop_code, texts, deciding, standalone, completed)
            if found is None:
                continue
            groups = {k: v for k, v in found.groupdict().items() if v} if isinstance(found, re.Match) else {}
            return rule, groups
        raise AssertionError("the rule table ends with a catch-all rule")  # parse_rules guarantees it

    _MATCHERS[id(rules)] = (rules, match)
    return match


@lru_cache(maxsize=4096)
def _resources(text: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(image, secret ARN, target group ARN, log group) named in the text, each None when absent."""
    return (
        _first_group(_IMAGE_IN_TEXT, text, "image"),
        _first(_SECRET_ARN, text),
        _first(_TARGET_GROUP_ARN, text),
        _first_group(_LOG_GROUP_IN_TEXT, text, "log_group"),
    )


class _Fields(dict[str, str]):
    """Template values; a missing one reads as a generic phrase instead of failing."""

    def __missing__(self, key: str) -> str:
        return {
            "image": "the container image",
            "secret": "a secret or parameter of the task definition",
            "log_group": "(the awslogs-group of the task definition)",
            "target_group": "its target group",
            "container": "the essential container",
            "endpoint": "an AWS endpoint",
        }.get(key, f"({key} unknown)")


def _fill(template: str, fields: _Fields) -> str:
    try:
        return template.format_map(fields)
    except (ValueError, IndexError, AttributeError):  # a malformed template must not lose the finding
        return template


def classify_stop(
    stop: Stop, essential: Collection[str] | None = None, rules: tuple[Rule, ...] | None = None
) -> Classification:
    """Classify why a service task stopped.

    `essential` names the task definition's essential containers when known (events do not say);
    without it, the container with the most telling reason or exit code decides. Deterministic, and
    total: any Stop gives a Classification.
    """
    rules = rules or default_rules()
    deciding, sidecars = _deciding_container(stop.containers, essential)
    completed = _ran_to_completion(stop.containers, essential)
    texts = tuple(t for t in (stop.stopped_reason, deciding.reason if deciding else None) if t)
    rule, groups = _matcher(rules)(stop.stop_code or NO_STOP_CODE, texts, deciding, _is_standalone(stop), completed)
    if rule.ran_to_completion:  # the container that did the work speaks for the task, not one stopped after it
        deciding, sidecars = _finished_container(stop.containers, essential)
    text_image, text_secret, text_target_group, text_log_group = _resources("\n".join(texts))

    # The reference the error text names is the one that failed; the container's field is the fallback.
    image = groups.get("image") or text_image or (deciding.image if deciding else None)
    secret = groups.get("secret") or text_secret
    target_group = groups.get("target_group") or text_target_group
    log_group = groups.get("log_group") or text_log_group
    exit_code = deciding.exit_code if deciding else None
    region, cluster, service = stop.region, stop.cluster, stop.service

    fields = _Fields({k: v for k, v in groups.items() if v})
    fields.update(
        task_id=stop.task_id,
        task_definition=stop.task_definition or "the task definition",
        exit_code=str(exit_code) if exit_code is not None else "none",
        exit_meaning=exit_code_meaning(exit_code, keeps_running=not rule.ran_to_completion),
        task_link=links.task_link(region, cluster, stop.task_id),
        service_link=links.service_link(region, cluster, service or "-"),
        task_definition_link=links.task_definition_link(region, stop.task_definition or "-"),
        log_group_link=links.log_group_link(region, log_group),
        target_group_link=links.target_group_link(region, target_group),
    )
    if deciding:
        fields["container"] = deciding.name
    if image:
        fields.update(image=image, image_link=links.image_link(region, image))
    else:
        fields["image_link"] = links.console(region, f"ecr/private-registry/repositories?region={region}")
    if secret:
        fields.update(secret=secret, secret_link=links.secret_link(region, secret))
    else:
        fields["secret_link"] = links.console(region, f"secretsmanager/listsecrets?region={region}")
    if target_group:
        fields["target_group"] = target_group
    if log_group:
        fields["log_group"] = log_group

    category = CATEGORIES[rule.category]
    return Classification(
        category=category.name,
        failure=category.failure,
        rule=rule.id,
        title=rule.title,
        summary=_fill(rule.summary, fields),
        evidence=_evidence(stop, deciding),
        next_steps=tuple(_fill(step, fields) for step in rule.next_steps),
        runbook=runbook_path(category.name),
        container=deciding.name if deciding else None,
        sidecars=sidecars,
        image=image or None,
        secret_arn=secret,
        log_group=log_group,
        target_group_arn=target_group,
        exit_code=exit_code,
        exit_meaning=fields["exit_meaning"] if deciding else None,
        signal=exit_signal(exit_code),
    )


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(0) if match else None


def _first_group(pattern: re.Pattern[str], text: str, group: str) -> str | None:
    match = pattern.search(text)
    return match.group(group) if match else None


def _evidence(stop: Stop, deciding: ContainerStop | None) -> tuple[str, ...]:
    """Verbatim fragments from the event, each labelled with the field it came from."""
    lines: list[str] = []
    if stop.stop_code:
        lines.append(f"stopCode: {stop.stop_code}")
    if stop.stopped_reason:
        lines.append(f"stoppedReason: {stop.stopped_reason[:_MAX_EVIDENCE]}")
    for container in sorted(stop.containers, key=lambda c: c is not deciding):
        if container.reason and container.reason != stop.stopped_reason:  # ECS often repeats it verbatim
            lines.append(f"container {container.name} reason: {container.reason[:_MAX_EVIDENCE]}")
        if container.exit_code is not None:
            lines.append(f"container {container.name} exitCode: {container.exit_code}")
    return tuple(lines)
