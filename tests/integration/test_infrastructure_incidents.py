"""Platform trouble end to end against moto: the real handler tells the cluster once and rolls nothing back."""

from __future__ import annotations

from ecs_watchdog.aws.instance_tasks import InstanceTasks
from ecs_watchdog.aws.state_table import StateTable
from tests.integration.incident_events import ACCOUNT, CLUSTER, REGION, SERVICE, bodies, stopped
from tests.integration.instance_health import instance_health, instance_with_a_task_of
from tests.integration.service_setup import invoke

ENI_TIMEOUT = "Timeout waiting for network interface provisioning to complete."


def test_network_interface_timeouts_open_one_cluster_incident_and_no_service_incident(account):
    invoke(bodies(*(stopped(n, n, reason=ENI_TIMEOUT) for n in range(1, 5))))
    (message,) = account.sns_messages()  # one message for the cluster, however many tasks fail
    assert message["Subject"].startswith(f"[ecs-watchdog] OPENED cluster {CLUSTER}: Infrastructure trouble")
    assert f"{CLUSTER}/{SERVICE}" in message["Message"] and "No rollback fixes this" in message["Message"]
    state = StateTable(account.session.client("dynamodb"), account.settings.state_table_name).load_service(
        f"{ACCOUNT}/{REGION}/{CLUSTER}/{SERVICE}"
    )
    assert state is not None and state.incidents == {}  # never the service's failure loop


def test_an_impaired_instance_is_told_once_naming_its_services_and_ok_resolves_it(account):
    instance = instance_with_a_task_of(account.session, SERVICE)
    invoke(bodies(instance_health(instance, "IMPAIRED", 1)))
    invoke(bodies(instance_health(instance, "IMPAIRED", 1)))  # SQS delivered it again
    (opened,) = account.sns_messages()
    assert f"OPENED cluster {CLUSTER}" in opened["Subject"]
    assert f"{CLUSTER}/{SERVICE}" in opened["Message"] and "CONTAINER_RUNTIME IMPAIRED" in opened["Message"]
    invoke(bodies(instance_health(instance, "OK", 30)))
    (resolved,) = account.sns_messages()
    assert resolved["Subject"].startswith(f"[ecs-watchdog] RESOLVED cluster {CLUSTER}")


def test_the_services_on_an_instance_come_from_its_tasks(account):
    instance = instance_with_a_task_of(account.session, "billing")
    assert InstanceTasks(account.session.client("ecs")).services_on(CLUSTER, instance) == ["billing"]
    assert InstanceTasks(account.session.client("ecs")).services_on("no-such-cluster", instance) == []
