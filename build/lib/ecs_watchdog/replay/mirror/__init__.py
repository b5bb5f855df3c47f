"""The moto mirror: the scenario's account in moto, and botocore hooks that put the model in charge of ECS.

moto emulates ECS only in part (checked on moto 5.2.5): UpdateService changes desiredCount and the task
definition but never creates a deployment, `deploymentConfiguration` is dropped, services start no
tasks, and ListServiceDeployments / DescribeServiceDeployments / StopServiceDeployment /
ContinueServiceDeployment do not exist. So the scheduler model owns every service, and on the watchdog's
boto3 session a `before-call.ecs` hook routes each ECS operation:

- every state-changing call (UpdateService, StopServiceDeployment, ContinueServiceDeployment, StopTask,
  TagResource, UntagResource, and any other non-read operation) is recorded as an action, then applied
  to the model (or, in dry-run, refused with `DryRunOperation`, so nothing reaches any state);
- reads moto cannot answer from the model's state (tasks, service deployments, service revisions) are
  answered by the hook;
- DescribeServices refreshes moto's copy of the named services first, then moto answers, so the
  watchdog parses a real moto response. The refresh is lazy: the model runs alone between calls.

Everything else (task definitions, secrets, log groups, ECR images, target groups) is plain moto,
created from the scenario's `environment` so that probes see what AWS would show.

This package is the entry point; one module per idea: `account` (building the account in moto),
`service_sync` (copying the model's services into moto), `state_changes` (recording, refusing, applying
the state-changing calls), `answered_reads` (the reads moto lacks), `references` (names and ARNs to
the model, simulated seconds to wall time), `configuration` (deploymentConfiguration both ways),
`responses` (the answers a hook hands botocore) and `moto_mirror` (the assembled `Mirror` and its router).
"""

from ecs_watchdog.replay.mirror.account import EXECUTION_ROLE_ARN, TEST_CREDENTIALS, new_session
from ecs_watchdog.replay.mirror.moto_mirror import Mirror
from ecs_watchdog.replay.mirror.service_sync import MIRRORED_SERVICE_MESSAGES
from ecs_watchdog.replay.mirror.state_changes import RecordedAction

__all__ = [
    "EXECUTION_ROLE_ARN",
    "MIRRORED_SERVICE_MESSAGES",
    "TEST_CREDENTIALS",
    "Mirror",
    "RecordedAction",
    "new_session",
]
