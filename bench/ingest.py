"""Ingest throughput: readings/s through the whole path, side by side with the raw Redis ceiling.

Run: .venv/bin/python bench/ingest.py [--duration 60] [--workers 1] [--profile]

Measured, in one run on one private Redis 7 (AOF on, as deployed):
1. Ceiling: N pre-encoded readings, pipelined XADD (chunks of 1,000) into one stream by one
   client, then XREADGROUP (COUNT 1,000) + XACK of the same readings by that client.
   Ceiling rate = N / (XADD time + read-and-ack time).
2. Whole path: a load generator process (bench/loadgen.py: the API's validation, then the API's
   pipelined XADD to 4 shards) sends as fast as it can for --duration s (keeping the backlog under
   100,000) while --workers worker processes (`python -m hypervision worker`) read the shards,
   update the picture, evaluate 1,000 rules, write history and engine state, publish the events
   and acknowledge in one MULTI per batch (alerts to SQLite). Rate = readings acknowledged by the
   group per second, sampled every second, after a warm-up. On a 2-core machine the load
   generator takes a core the workers would otherwise have, hence the two measures below.
3. Ingest alone: the workers paused (SIGSTOP), the load generator alone for up to 30 s.
4. Workers alone: resumed on that backlog, readings acknowledged per second over up to
   --duration s (less if drained first).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchkit
import redis
from benchkit import ROOT, acknowledged, reading_dict, redis_server

from hypervision import bus
from hypervision.ingest import validate_items


def ceiling(client: redis.Redis, n: int) -> dict[str, float]:
    t0 = benchkit.now_utc()
    readings, _ = validate_items([reading_dict(i, t0) for i in range(n)])
    encoded = [bus.encode_reading(r) for r in readings]
    stream, group = "bench:ceiling", "bench"
    client.delete(stream)
    started = time.perf_counter()
    for chunk in range(0, n, 1000):
        pipe = client.pipeline(transaction=False)
        for raw in encoded[chunk : chunk + 1000]:
            pipe.xadd(stream, {bus.READING_FIELD: raw})
        pipe.execute()
    added = time.perf_counter()
    client.xgroup_create(stream, group, id="0")
    read = 0
    while True:
        response: Any = client.xreadgroup(group, "one", {stream: ">"}, count=1000)
        if not response or not response[0][1]:
            break
        ids = [entry_id for entry_id, _ in response[0][1]]
        client.xack(stream, group, *ids)
        read += len(ids)
    done = time.perf_counter()
    client.delete(stream)
    assert read == n, f"read back {read} of {n}"
    return {"xadd": n / (added - started), "read_ack": n / (done - added), "both": n / (done - started)}


def _loadgen(
    url: str, env: dict[str, str], args: argparse.Namespace, duration: float, first: int,
    max_readings: int = 10**12, backlog: int = 100_000,
) -> subprocess.Popen[bytes]:  # fmt: skip
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--redis-url", url,
         "--shards", str(args.shards), "--duration", str(duration), "--first", str(first),
         "--max-readings", str(max_readings), "--max-backlog", str(backlog)],
        env=env, stdout=subprocess.PIPE,
    )  # fmt: skip


def _sent(proc: subprocess.Popen[bytes]) -> dict[str, float]:
    proc.wait()
    return dict(json.loads(proc.stdout.read() if proc.stdout else b"{}"))


def _rate(client: redis.Redis, shards: int, seconds: float, until: Any) -> tuple[float, float]:
    """Acknowledged readings per second over ``seconds`` (or until ``until()``), after a warm-up."""
    started = time.perf_counter()
    warmup = min(5.0, seconds / 4)
    samples: list[tuple[float, int]] = []
    while time.perf_counter() - started < seconds and not until():
        time.sleep(1.0)
        samples.append((time.perf_counter() - started, acknowledged(client, shards)[0]))
    window = [(t, n) for t, n in samples if t >= warmup] or samples
    (t_a, n_a), (t_b, n_b) = window[0], window[-1]
    return ((n_b - n_a) / (t_b - t_a) if t_b > t_a else 0.0), t_b - t_a


def whole_path(args: argparse.Namespace, url: str, folder: Path) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    rules = folder / "rules.yaml"
    rules.write_text(benchkit.rules_yaml(args.rules))
    env = benchkit.settings_env(
        url, folder, args.shards, rules, HV_WORKER_BATCH=str(args.worker_batch), HV_LEASE_TTL_MS="600000"
    )
    logs = folder / "logs"
    logs.mkdir()
    workers = benchkit.start_workers(args.workers, env, logs, profile=args.profile)
    try:
        benchkit.wait_for_leases(client, args.shards)
        load = _loadgen(url, env, args, args.duration, 0)
        concurrent, window = _rate(client, args.shards, args.duration, lambda: load.poll() is not None)
        sent = _sent(load)
        backlog = acknowledged(client, args.shards)[1]
        # Workers paused (their leases outlive the pause), the load generator alone fills a backlog
        # below the streams' MAXLEN (200,000 per shard) so nothing is trimmed before it is read.
        for worker in workers:
            worker.send_signal(signal.SIGSTOP)
        room = max(0, 600_000 - backlog)
        prefill = _sent(_loadgen(url, env, args, min(args.duration, 30), int(sent["sent"]), room, 10**9))
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
        drained = lambda: acknowledged(client, args.shards)[1] == 0  # noqa: E731
        alone, alone_window = _rate(client, args.shards, args.duration, drained)
        redis_cpu = client.info("cpu")
        stats = client.info("commandstats")
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
        benchkit.stop(workers)
    with sqlite3.connect(folder / "hv.db") as db:
        alerts = db.execute("SELECT count(*) FROM alert").fetchone()[0]
    errors = sum(line.count(b" ERROR ") for p in logs.iterdir() for line in p.read_bytes().splitlines())
    return {
        "ingest_alone": prefill["sent"] / prefill["seconds"],
        "prefilled": int(prefill["sent"]),
        "workers_alone": alone,
        "alone_window": alone_window,
        "sustained": concurrent,
        "window": window,
        "ingested": sent["sent"] / sent["seconds"],
        "backlog": backlog,
        "alerts": alerts,
        "errors": errors,
        "redis_cpu_s": float(redis_cpu["used_cpu_user"]) + float(redis_cpu["used_cpu_sys"]),
        "redis_top": ", ".join(
            f"{name.removeprefix('cmdstat_')} {v['usec'] / 1e6:.1f} s"
            for name, v in sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:5]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds of load (60: the target)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="default: one per core")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument("--worker-batch", type=int, default=500)
    parser.add_argument("--ceiling-readings", type=int, default=200_000)
    parser.add_argument("--aof", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--profile", action="store_true", help="pyinstrument reports of the workers")
    args = parser.parse_args()
    details = benchkit.machine()
    with (
        tempfile.TemporaryDirectory(prefix="hv-bench-") as tmp,
        redis_server(Path(tmp) / "redis", aof=args.aof) as server,
    ):
        client = redis.Redis.from_url(server.url)
        top = ceiling(client, args.ceiling_readings)
        client.flushdb()
        path = whole_path(args, server.url, Path(tmp))
        if args.profile:
            for report in sorted((Path(tmp) / "logs").glob("*.pyinstrument.txt")):
                target = ROOT / "var" / "bench" / report.name  # var/ is git-ignored
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(report.read_bytes())
                print(f"profile: {target}")
    benchkit.print_table("Machine", [*details, ("Redis", server.version)])
    benchkit.print_table(
        f"Ingest: {args.duration:g} s of load, {args.workers} worker(s), {args.shards} shards, "
        f"{args.rules} rules",
        [
            ("ceiling: pipelined XADD, one client", f"{top['xadd']:,.0f} readings/s"),
            ("ceiling: XREADGROUP + XACK, one client", f"{top['read_ack']:,.0f} readings/s"),
            ("ceiling: both, same readings", f"{top['both']:,.0f} readings/s"),
            (
                "ingest alone (validate + XADD, 1 process)",
                f"{path['ingest_alone']:,.0f} readings/s ({path['prefilled']:,} readings)",
            ),
            (
                f"{args.workers} worker(s) alone, on that backlog",
                f"{path['workers_alone']:,.0f} readings/s over {path['alone_window']:.0f} s",
            ),
            (
                "whole path: ingest + workers at once",
                f"{path['sustained']:,.0f} readings/s acknowledged over {path['window']:.0f} s "
                f"(ingest {path['ingested']:,.0f}/s)",
            ),
            ("ratio whole path / ceiling", f"{path['sustained'] / top['both']:.1%}"),
            ("ratio workers alone / ceiling", f"{path['workers_alone'] / top['both']:.1%}"),
            ("backlog at the end of the load", f"{path['backlog']:,}"),
            ("alerts stored (spikes)", f"{path['alerts']:,}"),
            ("ERROR lines in worker logs", f"{path['errors']}"),
            ("Redis CPU, whole run", f"{path['redis_cpu_s']:.1f} s (top: {path['redis_top']})"),
        ],
    )


if __name__ == "__main__":
    main()
