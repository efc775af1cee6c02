"""Ingest throughput: readings/s through the whole path, side by side with the raw Redis ceiling.

Run: .venv/bin/python bench/ingest.py [--duration 60] [--workers 1] [--profile]

Measured, in one run on one private Redis:
1. Ceiling: N pre-encoded readings, pipelined XADD (chunks of 1,000) into one stream by one
   client, then XREADGROUP (COUNT 1,000) + XACK of the same readings by that client.
   Ceiling rate = N / (XADD time + read-and-ack time).
2. Whole path: a load generator process (bench/loadgen.py: the API's validation, then the API's
   pipelined XADD to 4 shards) sends as fast as it can for --duration seconds, keeping the backlog
   under 100,000; --workers real worker processes (`python -m hypervision worker`) read the shards,
   update the picture, evaluate 1,000 rules, write the history and engine state, publish the
   events and acknowledge, in one MULTI per batch; alerts go to SQLite. The rate is the number of
   readings acknowledged by the worker group per second, sampled every second, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
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


def whole_path(args: argparse.Namespace, url: str, folder: Path) -> dict[str, float]:
    client = redis.Redis.from_url(url)
    rules = folder / "rules.yaml"
    rules.write_text(benchkit.rules_yaml(args.rules))
    env = benchkit.settings_env(url, folder, args.shards, rules, HV_WORKER_BATCH=str(args.worker_batch))
    logs = folder / "logs"
    logs.mkdir()
    workers = benchkit.start_workers(args.workers, env, logs, profile=args.profile)
    try:
        benchkit.wait_for_leases(client, args.shards)
        loadgen = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--redis-url", url,
             "--shards", str(args.shards), "--duration", str(args.duration)],
            env=env, stdout=subprocess.PIPE,
        )  # fmt: skip
        started = time.perf_counter()
        warmup = min(5.0, args.duration / 4)
        samples: list[tuple[float, int]] = []
        while loadgen.poll() is None:
            time.sleep(1.0)
            samples.append((time.perf_counter() - started, acknowledged(client, args.shards)[0]))
        sent = json.loads(loadgen.stdout.read() if loadgen.stdout else b"{}")
        load_end, acked_at_end = time.perf_counter() - started, acknowledged(client, args.shards)[0]
        deadline = time.monotonic() + 300
        while acknowledged(client, args.shards)[1] and time.monotonic() < deadline:
            time.sleep(0.2)
        drained = time.perf_counter() - started
        total = acknowledged(client, args.shards)[0]
        redis_cpu = client.info("cpu")
        stats = client.info("commandstats")
    finally:
        benchkit.stop(workers)
    window = [(t, n) for t, n in samples if t >= warmup]
    (t_a, n_a), (t_b, n_b) = window[0], window[-1]
    with sqlite3.connect(folder / "hv.db") as db:
        alerts = db.execute("SELECT count(*) FROM alert").fetchone()[0]
    errors = sum(line.count(b" ERROR ") for p in logs.iterdir() for line in p.read_bytes().splitlines())
    return {
        "sustained": (n_b - n_a) / (t_b - t_a),
        "window": t_b - t_a,
        "ingested": sent["sent"] / sent["seconds"],
        "sent": sent["sent"],
        "acked": total,
        "drained_in": drained,
        "drain_rate": (total - acked_at_end) / (drained - load_end) if drained > load_end + 0.5 else 0.0,
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
    parser.add_argument("--workers", type=int, default=1)
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
                target = ROOT / "bench" / "results" / report.name
                target.parent.mkdir(exist_ok=True)
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
                "whole path, sustained (acknowledged)",
                f"{path['sustained']:,.0f} readings/s over {path['window']:.0f} s",
            ),
            ("ratio whole path / ceiling", f"{path['sustained'] / top['both']:.1%}"),
            ("load generator (validate + XADD)", f"{path['ingested']:,.0f} readings/s"),
            ("readings sent / acknowledged", f"{path['sent']:,} / {path['acked']:,}"),
            ("all acknowledged after", f"{path['drained_in']:.1f} s"),
            ("worker(s) alone, draining the backlog", f"{path['drain_rate']:,.0f} readings/s"),
            ("alerts stored (spikes)", f"{path['alerts']:,}"),
            ("ERROR lines in worker logs", f"{path['errors']}"),
            ("Redis CPU, whole run", f"{path['redis_cpu_s']:.1f} s (top: {path['redis_top']})"),
        ],
    )


if __name__ == "__main__":
    main()
