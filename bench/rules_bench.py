"""Rules engine throughput: readings/s and rule evaluations/s with 10, 100 and 1,000 rules.

Run: .venv/bin/python bench/rules_bench.py [--seconds 1.0]

Two workloads per size:
- spread: the rules are spread over many metrics (as in a real rule set); each reading matches a
  couple of rules, so readings/s should not fall as unrelated rules are added (the (domain, metric)
  index at work);
- same metric: every rule selects the metric of every reading, the worst case; evaluations/s is the
  per-rule cost.
The mix of rules: thresholds with levels, clear conditions, `for`, 1 h mean windows, N consecutive.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from datetime import UTC, datetime, timedelta

from alerts.engine import Engine
from alerts.loader import load_rules_text
from hypervision.domain import Reading

KINDS = [
    '{op: ">", value: 80}\n    levels: [{severity: critical, when: {op: ">", value: 95}}]',
    '{op: ">", value: 70}\n    clear: {op: "<", value: 60}',
    '{op: ">", value: 85}\n    for: 5m',
    '{agg: mean, over: 1h, op: ">", value: 75}',
    '{op: ">", value: 90, consecutive: 3}',
]
SOURCES = 200
BATCH = 50


def rules_text(count: int, metrics: int) -> str:
    out = ["rules:"]
    for i in range(count):
        out.append(
            f"  - id: r{i}\n    title: 'r{i} {{value}}'\n"
            f"    select: {{domain: air, metric: m{i % metrics}}}\n"
            f"    when: {KINDS[i % len(KINDS)]}"
        )
    return "\n".join(out) + "\n"


def make_readings(metrics: int, n: int = 5000) -> list[Reading]:
    t0 = datetime(2026, 11, 30, tzinfo=UTC)
    out = []
    for i in range(n):
        # each source has its own level (a few above the thresholds) plus noise and a slow wave,
        # so alerts open and close now and then, as in life
        source = i % SOURCES
        level = 40 + 55 * ((source * 7919) % SOURCES) / SOURCES
        value = level + 3 * (((i * 104729) % 100) / 100 - 0.5) + 8 * math.sin(i / 2000)
        out.append(
            Reading(
                source=f"air:station:{i % SOURCES}",
                domain="air",
                metric=f"m{i % metrics}",
                value=round(value, 1),
                observed_at=t0 + timedelta(seconds=i),
                zone=f"z{i % 10}",
            )
        )
    return out


def measure(
    count: int, rule_metrics: int, reading_metrics: int, seconds: float
) -> tuple[float, float, float]:
    engine = Engine(load_rules_text(rules_text(count, rule_metrics), name="bench.yaml"))
    readings = make_readings(reading_metrics)
    per_reading = (
        sum(1 for r in range(count) if (r % rule_metrics) < reading_metrics) / reading_metrics
    )  # rules matched by one reading, on average
    for r in readings:  # warm up: every subject exists, windows are filled (steady state)
        engine.on_reading(r, r.observed_at)
    engine.take_dirty_state()
    offset = timedelta(seconds=len(readings))
    done = changes = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for r in readings[:BATCH]:
            changes += len(engine.on_reading(r, r.observed_at + offset))
        done += BATCH
        readings = readings[BATCH:] + readings[:BATCH]
        offset += timedelta(seconds=BATCH)
        engine.take_dirty_state()  # the worker persists the dirty state once per batch
    elapsed = time.perf_counter() - start
    return done / elapsed, done * per_reading / elapsed, changes / done


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.python_implementation()} {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs (single-threaded run), load average {load}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="measuring time per row")
    args = parser.parse_args()
    print(machine())
    print()
    head = ("workload", "rules", "rules/reading", "readings/s", "evaluations/s", "changes/reading")
    print(f"{head[0]:<12} {head[1]:>6} {head[2]:>14} {head[3]:>12} {head[4]:>14} {head[5]:>16}")
    for workload in ("spread", "same metric"):
        for count in (10, 100, 1000):
            if workload == "spread":
                rule_metrics, reading_metrics = max(count // 2, 5), 5
            else:
                rule_metrics, reading_metrics = 1, 1
            per_s, evals, changes = measure(count, rule_metrics, reading_metrics, args.seconds)
            matched = evals / per_s
            print(
                f"{workload:<12} {count:>6} {matched:>14.1f} {per_s:>12,.0f} {evals:>14,.0f} {changes:>16.4f}"
            )


if __name__ == "__main__":
    main()
