"""Alert latency: from an accepted reading to its alert frame on a WebSocket client, under load.

Run: .venv/bin/python bench/alert_latency.py [--loads 1000 10000] [--probes 200]

The whole system runs as in production: Redis 7 (AOF), the API (`hypervision serve`, with its hub),
--workers worker processes, SQLite, 1,000 rules plus a probe rule. For each background load, a load
generator process sends readings that raise no alert at that rate (the API's validation and XADD),
and after a warm-up this script, a WebSocket client subscribed to `alerts`, POSTs probe readings
one at a time (10 per second) to /api/ingest/readings, each from a new station and over the probe
rule's threshold. Latency = arrival of the probe's `alert.changed` (fire) frame minus the moment
the POST answered 202 (the reading is on the bus); the POST's own time is shown apart.

The latency is split in two with Redis's own clock (the time in each stream entry ID): "worker" is
from the probe's entry in its readings stream to its `alert.changed` entry in the events stream
(read, rules, SQL, commit), "hub" from that entry to the frame's arrival (the hub's read, the
WebSocket send).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
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


def _pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def level(stack: Stack, rate: float, probes: int, warmup: float) -> dict[str, Any]:
    interval = 0.1
    load = stack_mod.loadgen(stack, rate=rate, duration=warmup + probes * interval + 10)
    arrived: dict[str, float] = {}
    arrived_wall: dict[str, float] = {}
    accepted: dict[str, float] = {}
    posts: list[float] = []
    await asyncio.sleep(warmup)
    async with websockets.connect(f"{stack.ws_url}?token={stack.screen_token}", max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": ["alerts"]}))

        async def read() -> None:
            async for message in ws:
                frame = json.loads(message)
                if frame.get("event") == "alert.changed" and frame["data"]["transition"]["event"] == "fire":
                    arrived.setdefault(frame["data"]["source"], time.perf_counter())
                    arrived_wall.setdefault(frame["data"]["source"], time.time() * 1000)

        reader = asyncio.create_task(read())
        headers = {"authorization": f"Bearer {stack.ingest_token}"}
        async with httpx.AsyncClient(base_url=stack.api_url, headers=headers, timeout=30) as http:
            for k in range(probes):
                source = f"air:station:PROBE-{int(rate)}-{k}"
                body = [{"source": source, "domain": "air", "metric": "probe", "value": 450.0,
                         "observed_at": datetime.now(UTC).isoformat(), "zone": f"zp{k % 7}"}]  # fmt: skip
                sent = time.perf_counter()
                resp = await http.post("/api/ingest/readings", json=body)
                accepted[source] = time.perf_counter()
                posts.append(accepted[source] - sent)
                assert resp.status_code == 202, resp.text
                await asyncio.sleep(max(0.0, interval - (accepted[source] - sent)))
        deadline = time.perf_counter() + 60
        while len(arrived) < probes and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        reader.cancel()
    load.wait(120)
    sent_info = json.loads(load.stdout.read() if load.stdout else b"{}")
    backlog = benchkit.acknowledged(
        redis.Redis.from_url(stack.redis_url), int(stack.env["HV_READING_SHARDS"])
    )[1]
    latencies = [(arrived[s] - accepted[s]) * 1000 for s in accepted if s in arrived]
    worker, hub = _stages(stack, arrived_wall)
    return {
        "rate": rate,
        "achieved": sent_info["sent"] / sent_info["seconds"],
        "received": len(latencies),
        "probes": probes,
        "p50": _pct(latencies, 50),
        "p99": _pct(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "post_p50": _pct([p * 1000 for p in posts], 50),
        "worker_p50": _pct(worker, 50),
        "worker_p99": _pct(worker, 99),
        "hub_p50": _pct(hub, 50),
        "hub_p99": _pct(hub, 99),
        "backlog": backlog,
    }


def _stages(stack: Stack, arrived_wall: dict[str, float]) -> tuple[list[float], list[float]]:
    """Per probe, ms from its readings entry to its alert event entry, and from there to the frame."""
    client = redis.Redis.from_url(stack.redis_url)
    on_bus: dict[str, int] = {}
    for shard in range(int(stack.env["HV_READING_SHARDS"])):
        for entry_id, fields in client.xrevrange(bus.readings_stream(shard), count=200_000):
            raw = fields[bus.READING_FIELD]
            if b"PROBE-" in raw:
                on_bus[bus.decode_reading(raw).source] = bus.stream_id_tuple(entry_id.decode())[0]
    fired: dict[str, int] = {}
    for entry_id, fields in client.xrevrange(bus.EVENTS_STREAM, count=100_000):
        if fields[b"type"] == b"alert.changed":
            data = bus.loads(fields[b"data"])
            if data["transition"]["event"] == "fire" and "PROBE-" in data["source"]:
                fired.setdefault(data["source"], bus.stream_id_tuple(entry_id.decode())[0])
    probes = [s for s in arrived_wall if s in on_bus and s in fired]
    worker = [float(fired[s] - on_bus[s]) for s in probes]
    hub = [arrived_wall[s] - fired[s] for s in probes]
    return worker, hub


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=float, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--warmup", type=float, default=10, help="s of load before probing (series settle)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="default: one per core")
    parser.add_argument("--rules", type=int, default=1_000)
    args = parser.parse_args()
    details = benchkit.machine()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="hv-latency-") as tmp,
        stack_mod.running(Path(tmp), rules=args.rules, workers=args.workers) as stack,
    ):
        for rate in args.loads:
            rows.append(asyncio.run(level(stack, rate, args.probes, args.warmup)))
        errors = stack.error_lines()
        version = stack.redis_version
    benchkit.print_table("Machine", [*details, ("Redis", version)])
    title = f"Alert latency, accepted reading -> alert frame ({args.workers} worker(s), {args.rules} rules)"
    table = []
    for r in rows:
        table.append((
            f"background {r['rate']:,.0f}/s (achieved {r['achieved']:,.0f}/s)",
            f"p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms; "
            f"{r['received']}/{r['probes']} alerts; POST p50 {r['post_p50']:.0f} ms; "
            f"backlog at end {r['backlog']:,}",
        ))  # fmt: skip
        table.append((
            "  of which",
            f"worker p50 {r['worker_p50']:.0f} ms, p99 {r['worker_p99']:.0f} ms; "
            f"hub p50 {r['hub_p50']:.0f} ms, p99 {r['hub_p99']:.0f} ms",
        ))  # fmt: skip
    table.append(("ERROR lines in API and worker logs", str(len(errors))))
    benchkit.print_table(title, table)
    for line in errors[:10]:
        print("  ", line)


if __name__ == "__main__":
    main()
