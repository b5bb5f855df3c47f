"""The bench's cost model bills DynamoDB by capacity units, as on-demand does (DynamoDB developer guide,
"DynamoDB read and write operations"): 1 write unit per KB, 1 read unit per 4 KB strongly consistent."""

from __future__ import annotations

import pytest

from ecs_watchdog.replay.cost import Assumptions, monthly_cost, read_units, write_units


def test_an_8_kb_state_item_costs_9_write_units_and_2_read_units() -> None:
    item = 8 * 1024 + 300  # a state item of a service with an open incident and its outbox

    assert write_units(item) == 9
    assert write_units(item, transactional=True) == 18
    assert read_units(item) == 3
    assert read_units(8 * 1024) == 2
    assert read_units(8 * 1024, strongly_consistent=False) == 1


def test_the_monthly_cost_counts_measured_units_not_calls() -> None:
    one_call = {"ms": 10.0, "dynamodb_reads": 1.0, "dynamodb_writes": 1.0, "log_bytes": 0.0}
    measured = {**one_call, "dynamodb_read_units": 3.0, "dynamodb_write_units": 9.0}
    a = Assumptions(events_per_service={"task stopped (failure)": 30})

    by_calls = monthly_cost({"task stopped (failure)": one_call}, 0, a)["usd_per_month"]["dynamodb"]
    by_units = monthly_cost({"task stopped (failure)": measured}, 0, a)["usd_per_month"]["dynamodb"]

    # 3,000 failures: 9 WRU and 3 RRU each instead of 1 and 1.
    assert by_units == pytest.approx(3000 * (9 * 0.625 + 3 * 0.125) / 1e6, abs=1e-4)
    assert by_calls == pytest.approx(3000 * (0.625 + 0.125) / 1e6, abs=1e-4)
