"""The settings switch the push feeds on; configured ones run against real peers and fill the bus."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from adapters.simulator.ami_server import HelplineSimulation
from hypervision import bus
from hypervision.call_line import QueueLogFeed
from hypervision.config import Settings
from hypervision.mqtt_ingest import MqttIngest
from hypervision.push_feeds import push_feeds
from hypervision.runtime import open_runtime
from tests.support import eventually


async def test_nothing_runs_unless_configured(runtime) -> None:
    assert push_feeds(runtime) == []


async def test_ami_and_queue_log_feeds_from_settings(settings: Settings, redis, tmp_path: Path) -> None:
    sim = HelplineSimulation(
        "helpline-surge",
        clock=lambda: datetime.now(UTC),
        username="hv",
        secret="pw",
        queue_log=tmp_path / "ql",
    )
    port = await sim.start()
    configured = settings.model_copy(
        update={
            "ami_host": "127.0.0.1",
            "ami_port": port,
            "ami_username": "hv",
            "ami_secret": SecretStr("pw"),
            "ami_interval_s": 0.1,
            "queue_log_path": tmp_path / "ql",
            "mqtt_host": "127.0.0.1",
        }
    )
    async with AsyncExitStack() as stack:
        runtime = await open_runtime(configured, stack)
        feeds = push_feeds(runtime)
        assert [type(f).__name__ for f in feeds] == ["MqttIngest", "AmiClient", "QueueLogFeed"]
        tail = feeds[2]
        assert isinstance(tail, QueueLogFeed)
        tail.config = dataclasses.replace(tail.config, interval_s=0.05)
        tasks = [asyncio.create_task(f.run()) for f in feeds if not isinstance(f, MqttIngest)]
        await eventually(lambda: tail.health.last_success)  # the tail starts at the end of the file
        sim.helpline.advance(600)  # ten busy minutes: new lines in the log, callers in the queues

        async def metrics() -> set[str]:
            found = set()
            for shard in range(configured.reading_shards):
                for _id, fields in await runtime.redis.xrange(bus.readings_stream(shard)):
                    found.add(json.loads(fields[bus.READING_FIELD])["metric"])
            return found if {"callersWaiting", "abandonRate15m"} <= found else set()

        try:
            assert await eventually(metrics)
        finally:
            for task in tasks:
                task.cancel()
            await sim.close()
