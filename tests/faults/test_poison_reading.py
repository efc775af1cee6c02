"""A reading that makes rule evaluation fail: retried up to max_deliveries, then dead-lettered alone."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.engine import Engine
from alerts.loader import load_rules
from hypervision import bus
from hypervision.domain import Reading
from hypervision.runtime import Runtime
from hypervision.worker import Worker
from tests.faults.faultkit import no2_readings, nothing_pending, picture_size, rules_file
from tests.support import eventually

pytestmark = pytest.mark.fault

POISON = 666.0
MAX_DELIVERIES = 3


async def test_poison_reading_is_dead_lettered_after_n_tries_and_the_rest_flows(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    rules = rules_file(tmp_path)
    attempts: list[str] = []
    healthy = Engine.on_reading

    def on_reading(self: Engine, reading: Reading, now: datetime) -> Any:
        if reading.value == POISON:
            attempts.append(reading.source)
            raise ZeroDivisionError("a rule that cannot handle this value")
        return healthy(self, reading, now)

    monkeypatch.setattr(Engine, "on_reading", on_reading)
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    poison = Reading(source="air:station:POISON", domain="air", metric="no2", unit="µg/m³",
                     value=POISON, observed_at=t0, zone="zone-0")  # fmt: skip
    await runtime.ingestor.accept(
        [*no2_readings("P", 40, t0, zones=1), poison, *no2_readings("P", 40, t0, zones=1, first=40)]
    )

    settings = runtime.settings.model_copy(update={"max_deliveries": MAX_DELIVERIES, "worker_batch": 25})
    worker = Worker(
        redis=runtime.redis,
        db=runtime.db,
        settings=settings,
        rules=lambda: load_rules([rules]),
        clock=runtime.clock,
        name="careful",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        dead = await eventually(lambda: runtime.redis.xrange(bus.DEADLETTER_STREAM), timeout=20)
        await eventually(lambda: picture_size(runtime, 80), timeout=20)
        # The stream keeps flowing after the poison was set aside.
        await runtime.ingestor.accept(no2_readings("P", 20, t0 + timedelta(minutes=1), zones=1, first=80))
        await eventually(lambda: picture_size(runtime, 100), timeout=20)
        await eventually(lambda: nothing_pending(runtime), timeout=20)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)

    assert attempts == ["air:station:POISON"] * MAX_DELIVERIES
    assert len(dead) == 1
    fields = dead[0][1]
    assert fields[b"reason"] == f"rule evaluation failed {MAX_DELIVERIES} times on this reading".encode()
    shard = bus.shard_of(poison, runtime.settings.reading_shards)
    entry_id = (await runtime.redis.xrange(bus.readings_stream(shard)))[40][0]
    assert fields[b"source"] == f"stream:{shard}:".encode() + entry_id
    assert Reading.model_validate_json(fields[b"raw"]) == poison  # kept whole, for an operator to inspect
    picture = {k.decode() for k in await runtime.redis.hkeys(bus.PICTURE_KEY)}
    assert "air:station:POISON|no2" not in picture and len(picture) == 100
    assert await runtime.redis.xlen(bus.DEADLETTER_STREAM) == 1
