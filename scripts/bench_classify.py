#!/usr/bin/env python3
"""Benchmark: classifications per second on one core, and per-event latency percentiles.

    scripts/run.sh python scripts/bench_classify.py [--events 200000]

Inputs are the verbatim real-world messages of tests/fixtures/stop_messages.json, cycled. Two figures:
`warm` is the Lambda steady state (the rule match is cached per distinct text, as in a crash loop);
`cold` clears that cache before every event, so every event runs the whole rule table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ecs_watchdog.classify import classifier
from tests.stop_cases import load_cases


def run(events: int, cold: bool) -> tuple[float, list[float]]:
    stops = [c.stop for c in load_cases()[0]]
    latencies: list[float] = []
    started = time.perf_counter()
    for n in range(events):
        if cold:
            classifier._MATCHERS.clear()
            classifier._resources.cache_clear()
        t = time.perf_counter()
        classifier.classify_stop(stops[n % len(stops)])
        latencies.append(time.perf_counter() - t)
    return events / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    for label, cold in (("warm", False), ("cold", True)):
        rate, latencies = run(args.events if not cold else args.events // 4, cold)
        q = statistics.quantiles(latencies, n=1000)
        print(
            f"{label}: {rate:,.0f} classifications/s; p50 {q[499] * 1e6:.1f} us, p99 {q[989] * 1e6:.1f} us, "
            f"p99.9 {q[998] * 1e6:.1f} us"
        )


if __name__ == "__main__":
    main()
