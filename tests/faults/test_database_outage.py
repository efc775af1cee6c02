"""Database unavailable: the worker acknowledges nothing it could not persist, retries, and catches up.

The outage is another process holding SQLite's write lock (``BEGIN EXCLUSIVE``), what a stuck
migration or a backup tool does; the worker's engine waits 0.3 s for the lock instead of 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from alerts.loader import load_rules
from hypervision import bus
from hypervision.models.alert import Alert, AlertHistory
from hypervision.runtime import Runtime
from hypervision.worker import Worker
from tests.faults.faultkit import alert_events, no2_readings, rules_file
from tests.support import eventually

pytestmark = pytest.mark.fault

N_READINGS = 300
EVERY_NTH_ALERTS = 10


async def test_locked_database_holds_the_acks_until_it_is_back(
    runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    url = make_url(runtime.settings.sqlalchemy_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("the outage is made with SQLite's write lock")
    rules = rules_file(tmp_path)
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    readings = no2_readings("D", N_READINGS, start, every_nth=EVERY_NTH_ALERTS)
    await runtime.ingestor.accept(readings)

    locker = sqlite3.connect(str(url.database), isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    impatient = create_engine(str(url), connect_args={"timeout": 0.3, "check_same_thread": False})
    worker = Worker(
        redis=runtime.redis,
        db=impatient,
        settings=runtime.settings,
        rules=lambda: load_rules([rules]),
        clock=runtime.clock,
        name="patient",
    )
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        with caplog.at_level(logging.WARNING, logger="hypervision.worker"):
            await eventually(lambda: _retries(caplog) >= 2, timeout=20)
        assert await _acknowledged(runtime) == 0, "readings acknowledged while their alerts were not stored"
        assert await runtime.redis.hlen(bus.PICTURE_KEY) == 0
        assert await runtime.redis.xlen(bus.DEADLETTER_STREAM) == 0  # an outage is not a poison reading
        with Session(runtime.db) as session:
            assert session.exec(select(Alert)).all() == []

        locker.execute("ROLLBACK")
        await eventually(lambda: _acknowledged(runtime, N_READINGS), timeout=30)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        locker.close()
        impatient.dispose()

    expected = {f"air:station:D{i:05d}" for i in range(0, N_READINGS, EVERY_NTH_ALERTS)}
    with Session(runtime.db) as session:
        alerts = session.exec(select(Alert)).all()
        fires = session.exec(select(AlertHistory).where(AlertHistory.event == "fire")).all()
    assert sorted(a.source or "" for a in alerts) == sorted(expected)
    assert len(fires) == len(expected)
    assert await runtime.redis.hlen(bus.PICTURE_KEY) == N_READINGS
    fired = await alert_events(runtime)
    assert set(fired) == expected and set(fired.values()) == {1}


def _retries(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        "database is locked" in r.getMessage() and "retrying" in r.getMessage() for r in caplog.records
    )


async def _acknowledged(runtime: Runtime, want: int | None = None) -> int | bool:
    """Entries read by the group and acknowledged, over every shard (or whether that reached ``want``)."""
    done = 0
    for shard in range(runtime.settings.reading_shards):
        stream = bus.readings_stream(shard)
        for group in await runtime.redis.xinfo_groups(stream):
            if group["name"] == bus.WORKER_GROUP.encode():
                # Redis 6 (the embedded one) has no entries-read: count up to the last delivered ID.
                delivered = await runtime.redis.xrange(stream, max=group["last-delivered-id"])
                done += len(delivered) - int(group["pending"])
    return done if want is None else done >= want
