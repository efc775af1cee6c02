"""Soak: minutes of steady load with many WebSocket clients; memory, stream lengths, errors checked.

Run: .venv/bin/python bench/soak.py [--minutes 10] [--rate 10000] [--clients 200]

The whole system runs as in production (Redis 7 with AOF, the API with its hub, --workers worker
processes, SQLite, --rules rules and a probe rule). A load generator process sends --rate readings
per second (the API's validation and XADD; it slows down only if the backlog passes 100,000), one
probe alert is POSTed through the API every 5 s, and --clients WebSocket clients subscribed to
--topics read every frame. Every 10 s: resident memory of the API and of each worker, the length of
each readings shard, of hv:events and of hv:deadletter. Verdicts:
- memory stable: after the first fifth of the run (start-up, caches filling), each process's RSS
  stays within ±10 % of its value at that point. The mean rules' windows hold their samples for
  their span by design, so they span --window (1 min by default, not the 1 h of the ingest bench):
  a 1 h window would still be filling at the end of a 10 min run, which is growth, not a leak;
- streams bounded: no stream longer than its MAXLEN (+10 %, trimming is approximate);
- no ERROR (or worse) line in the API and worker logs; every client still connected.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import benchkit
import httpx
import redis
import stack as stack_mod
import websockets
from stack import Stack

from hypervision import bus
from hypervision.config import Settings

SAMPLE_S = 10.0


async def client(url: str, topics: list[str], counts: dict[str, int], stop: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None, ping_interval=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": topics}))
        while not stop.is_set():
            try:
                async with asyncio.timeout(1.0):
                    message = await ws.recv()
            except TimeoutError:
                continue
            counts["frames"] += 1
            counts["bytes"] += len(message)
            if '"type":"snapshot"' in message[:40] and json.loads(message).get("resync"):
                counts["resyncs"] += 1
            if '"type":"ping"' in message[:20]:
                await ws.send('{"type":"pong"}')
        counts["open_at_end"] += 1


async def probes(stack: Stack, stop: asyncio.Event) -> int:
    sent = 0
    headers = {"authorization": f"Bearer {stack.ingest_token}"}
    async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=30) as http:
        while not stop.is_set():
            body = [{"source": f"air:station:SOAK-{sent}", "domain": "air", "metric": "probe", "value": 450.0,
                     "observed_at": datetime.now(UTC).isoformat()}]  # fmt: skip
            resp = await http.post("/api/ingest/readings", json=body)
            sent += resp.status_code == 202
            await asyncio.sleep(5)
    return sent


def sample(stack: Stack, client_redis: redis.Redis, shards: int) -> dict[str, Any]:
    rss = {name: p.memory_info().rss for name, p in stack.processes().items()}
    lengths = {f"readings:{s}": client_redis.xlen(bus.readings_stream(s)) for s in range(shards)}
    lengths["events"] = client_redis.xlen(bus.EVENTS_STREAM)
    lengths["deadletter"] = client_redis.xlen(bus.DEADLETTER_STREAM)
    return {"rss": rss, "lengths": lengths, "backlog": benchkit.acknowledged(client_redis, shards)[1]}


async def soak(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    seconds = args.minutes * 60
    shards = int(stack.env["HV_READING_SHARDS"])
    load = stack_mod.loadgen(stack, rate=args.rate, duration=seconds)
    stop = asyncio.Event()
    counts = {"frames": 0, "bytes": 0, "resyncs": 0, "open_at_end": 0}
    url = f"{stack.ws_url}?token={stack.screen_token}"
    clients = [asyncio.create_task(client(url, args.topics, counts, stop)) for _ in range(args.clients)]
    prober = asyncio.create_task(probes(stack, stop))
    client_redis = redis.Redis.from_url(stack.redis_url)
    samples: list[tuple[float, dict[str, Any]]] = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        await asyncio.sleep(SAMPLE_S)
        samples.append((time.perf_counter() - started, sample(stack, client_redis, shards)))
        s = samples[-1][1]
        rss = ", ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in s["rss"].items())
        print(f"  {samples[-1][0]:5.0f} s  RSS {rss}; backlog {s['backlog']:,}", flush=True)
    stop.set()
    results = await asyncio.gather(*clients, return_exceptions=True)
    probed = await prober
    load.wait(60)
    sent = json.loads(load.stdout.read() if load.stdout else b"{}")
    return {
        "samples": samples,
        "sent": sent,
        "counts": counts,
        "client_errors": [repr(r) for r in results if isinstance(r, BaseException)],
        "probes": probed,
        "alerts": client_redis.hlen(bus.OPEN_ALERTS_KEY),
    }


def verdicts(result: dict[str, Any], minutes: float, clients: int) -> list[tuple[str, str]]:
    samples = result["samples"]
    settled = [s for t, s in samples if t >= minutes * 60 / 5] or [samples[-1][1]]
    rows = []
    for name, base in settled[0]["rss"].items():
        values = [s["rss"][name] for s in settled]
        low, high = min(values) / base - 1, max(values) / base - 1
        ok = low >= -0.10 and high <= 0.10
        rows.append(
            (
                f"RSS {name}",
                f"{'PASS' if ok else 'FAIL'} {base / 2**20:.0f} MiB, then {low:+.1%} .. {high:+.1%}",
            )
        )
    limits = Settings()
    caps = {"events": limits.events_maxlen, "deadletter": limits.deadletter_maxlen}
    for stream in samples[-1][1]["lengths"]:
        longest = max(s["lengths"][stream] for _, s in samples)
        cap = caps.get(stream, limits.readings_maxlen)
        rows.append(
            (
                f"length {stream}",
                f"{'PASS' if longest <= cap * 1.1 else 'FAIL'} max {longest:,} (MAXLEN {cap:,})",
            )
        )
    sent = result["sent"]
    counts = result["counts"]
    rate = sent["sent"] / sent["seconds"]
    open_ok = "PASS" if counts["open_at_end"] == clients else "FAIL"
    rows += [
        ("readings sent", f"{sent['sent']:,} in {sent['seconds']:.0f} s = {rate:,.0f}/s"),
        ("backlog at end", f"{samples[-1][1]['backlog']:,}"),
        ("probe alerts POSTed / open alerts", f"{result['probes']} / {result['alerts']}"),
        ("WebSocket clients still open",
         f"{open_ok} {counts['open_at_end']}/{clients}; errors {len(result['client_errors'])}"),
        ("frames / bytes received",
         f"{counts['frames']:,} / {counts['bytes'] / 2**20:,.0f} MiB; resyncs {counts['resyncs']}"),
    ]  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=10_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--topics", nargs="+", default=["alerts", "sources"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="default: one per core")
    parser.add_argument("--rules", type=int, default=1_000)
    parser.add_argument(
        "--window",
        default="1m",
        help="span of the mean rules (readings' time runs ~10x faster than the clock)",
    )
    args = parser.parse_args()
    details = benchkit.machine()
    with (
        tempfile.TemporaryDirectory(prefix="hv-soak-") as tmp,
        stack_mod.running(Path(tmp), rules=args.rules, workers=args.workers, window=args.window) as stack,
    ):
        result = asyncio.run(soak(stack, args))
        errors = stack.error_lines()
        version = stack.redis_version
        warnings = stack.warning_kinds()
    benchkit.print_table("Machine", [*details, ("Redis", version)])
    rows = verdicts(result, args.minutes, args.clients)
    rows.append(("ERROR lines in API and worker logs", f"{'PASS' if not errors else 'FAIL'} {len(errors)}"))
    benchkit.print_table(
        f"Soak: {args.minutes:g} min at {args.rate:,.0f} readings/s, {args.clients} clients on "
        f"{' '.join(args.topics)}, {args.workers} worker(s), {args.rules} rules",
        rows,
    )
    for line in errors[:10]:
        print("  ", line)
    for kind, count in warnings.most_common(5):
        print(f"   WARNING x{count}: {kind}")
    for line in result["client_errors"][:5]:
        print("  ", line)


if __name__ == "__main__":
    main()
