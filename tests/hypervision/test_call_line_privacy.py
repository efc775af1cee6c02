"""Caller numbers fed through AMI and queue_log are found nowhere: not in Redis, not in any table."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel

from adapters.ami_client import AmiConfig
from adapters.simulator.ami_server import AmiServer
from adapters.simulator.helpline import Helpline, helpline_surge
from adapters.simulator.queue_log_writer import QueueLogWriter
from hypervision import bus
from hypervision.call_line import QueueLogConfig, QueueLogFeed, ami_client
from hypervision.runtime import Runtime
from tests.support import LiveServer, eventually


async def redis_dump(runtime: Runtime) -> str:
    """Every value of every key, whatever its type."""
    redis, parts = runtime.redis, []
    async for key in redis.scan_iter(count=500):
        kind = (await redis.type(key)).decode()
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            value = kind
        parts.append(f"{key!r}={value!r}")
    return "\n".join(parts)


def db_dump(runtime: Runtime) -> str:
    rows = []
    with Session(runtime.db) as session:
        for table in SQLModel.metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in session.execute(sa_select(table)).all()]
    return "\n".join(rows)


async def test_no_caller_identity_survives_anywhere(live: LiveServer, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = live.runtime
    log_path = tmp_path / "queue_log"
    start = int(datetime.now(UTC).timestamp()) - 1200
    writer = QueueLogWriter(log_path, epoch0=start)
    helpline = Helpline({"allo-mairie": 2}, rate=helpline_surge, seed=3, listener=writer)
    helpline.advance(1200)
    # A corrupt line holding a number must be skipped without being kept anywhere either.
    with open(log_path, "a") as handle:
        handle.write("not-a-time|x|allo-mairie|NONE|ENTERQUEUE||0799887766|1\n")
    identities = {c.number for c in helpline.queues["allo-mairie"].waiting}
    identities |= {c.name for c in helpline.queues["allo-mairie"].waiting}
    identities |= {line.split("|")[6] for line in log_path.read_text().splitlines() if "|ENTERQUEUE|" in line}
    assert "0799887766" in identities and len(identities) > 5

    server = AmiServer(helpline, username="hv", secret="pw")
    port = await server.start()
    client = ami_client(
        runtime,
        AmiConfig(host="127.0.0.1", port=port, username="hv", secret=SecretStr("pw"),
                  source_prefix="call_line:queue", interval_s=0.05),
    )  # fmt: skip
    feed = QueueLogFeed(
        runtime, QueueLogConfig(path=log_path, source_prefix="call_line:queue", from_start=True)
    )
    task = asyncio.create_task(client.run())
    try:
        await eventually(lambda: client.health.last_success)
        assert await feed.poll_once() > 0
        assert feed.bad_lines == 1
        await eventually(
            lambda: runtime.redis.hget(bus.PICTURE_KEY, "call_line:queue:allo-mairie|callersWaiting")
        )
        await eventually(
            lambda: runtime.redis.hget(bus.PICTURE_KEY, "call_line:queue:allo-mairie|abandonRate15m")
        )
    finally:
        task.cancel()
        await client.close()
        await server.close()
        writer.close()
    everything = await redis_dump(runtime) + db_dump(runtime) + caplog.text
    assert "allo-mairie" in everything  # the dump really holds the helpline's data
    found = sorted(i for i in identities if i in everything)
    assert found == []
