"""Load generator process: readings validated and appended exactly as POST /api/ingest/readings does.

Each batch is a list of JSON-like dicts run through ``validate_items`` (the API's validation) and
``Ingestor.accept`` (the API's pipelined XADD to the shards). ``--rate 0`` sends as fast as it can
while keeping the backlog (delivered-not-acknowledged plus not-yet-delivered entries) under
``--max-backlog``, so the streams' MAXLEN never trims an entry before a worker has it.

Prints one JSON line when done: {"sent": n, "seconds": s, "spikes": k}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime

import redis
from benchkit import SPIKE_EVERY, acknowledged, reading_dict

from hypervision.config import Settings
from hypervision.ingest import Ingestor, validate_items
from hypervision.runtime import redis_client


async def run(args: argparse.Namespace) -> dict[str, float]:
    settings = Settings(reading_shards=args.shards, redis_url=args.redis_url)
    client = redis_client(args.redis_url)  # the hiredis packer the API uses
    sync = redis.Redis.from_url(args.redis_url)
    ingestor = Ingestor(client, settings)
    t0 = datetime.fromtimestamp(args.t0, UTC) if args.t0 else datetime.now(UTC)
    started = time.perf_counter()
    deadline = started + args.duration
    sent = spikes = 0
    next_check = 0.0
    i = args.first
    while time.perf_counter() < deadline and sent < args.max_readings:
        now = time.perf_counter()
        if args.rate:
            due = int((now - started) * args.rate)
            if sent >= due:
                await asyncio.sleep(min(0.01, (sent - due + 1) / args.rate))
                continue
        if now >= next_check:
            next_check = now + 0.25
            while acknowledged(sync, args.shards)[1] > args.max_backlog and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
        n = args.batch if not args.rate else max(1, min(args.batch, int((now - started) * args.rate) - sent))
        items = [
            reading_dict(j, t0, value=None if args.spikes else 20.0 + (j * 7919 % 400) / 10)
            for j in range(i, i + n)
        ]
        readings, rejected = validate_items(items)
        assert not rejected, rejected[0][0]
        await ingestor.accept(readings)
        if args.spikes:
            spikes += sum(1 for j in range(i, i + n) if j % SPIKE_EVERY == SPIKE_EVERY - 1)
        i += n
        sent += n
    elapsed = time.perf_counter() - started
    await client.aclose()
    sync.close()
    return {"sent": sent, "seconds": elapsed, "spikes": spikes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0, help="readings/s; 0: as fast as possible")
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--max-backlog", type=int, default=100_000)
    parser.add_argument("--max-readings", type=int, default=10**12, help="stop after this many")
    parser.add_argument("--first", type=int, default=0, help="index of the first reading")
    parser.add_argument("--t0", type=float, default=0, help="observed_at of reading 0 (epoch s)")
    parser.add_argument("--spikes", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
