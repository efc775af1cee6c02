"""Database unavailable: the worker acknowledges nothing it could not persist, retries, and catches up.

The outage is another connection holding the write lock, what a stuck migration or a backup tool
does: SQLite's ``BEGIN EXCLUSIVE``, or PostgreSQL's ``LOCK TABLE alert IN EXCLUSIVE MODE`` (reads
go on, writes wait). The worker's engine gives up after 0.3 s instead of waiting 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
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
    rules = rules_file(tmp_path)
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    readings = no2_readings("D", N_READINGS, start, every_nth=EVERY_NTH_ALERTS)
    expected = {f"air:station:D{i:05d}" for i in range(0, N_READINGS, EVERY_NTH_ALERTS)}
    await runtime.ingestor.accept(readings)

    impatient, release = _lock_writes(url)
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
        # The batches holding an alert to store wait; a shard with nothing for SQL flows meanwhile.
        alerting = {bus.shard_of(r, runtime.settings.reading_shards) for r in readings if r.value == 450.0}
        for shard in alerting:
            assert await _acknowledged(runtime, shards=[shard]) == 0, "acknowledged, its alerts not stored"
        shown = {k.decode().split("|")[0] for k in await runtime.redis.hkeys(bus.PICTURE_KEY)}
        assert not shown & expected, "an alerting reading reached the picture before its alert was stored"
        assert await runtime.redis.xlen(bus.DEADLETTER_STREAM) == 0  # an outage is not a poison reading
        with Session(runtime.db) as session:
            assert session.exec(select(Alert)).all() == []

        release()
        await eventually(lambda: _acknowledged(runtime, N_READINGS), timeout=30)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        release()
        impatient.dispose()

    with Session(runtime.db) as session:
        alerts = session.exec(select(Alert)).all()
        fires = session.exec(select(AlertHistory).where(AlertHistory.event == "fire")).all()
    assert sorted(a.source or "" for a in alerts) == sorted(expected)
    assert len(fires) == len(expected)
    assert await runtime.redis.hlen(bus.PICTURE_KEY) == N_READINGS
    fired = await alert_events(runtime)
    assert set(fired) == expected and set(fired.values()) == {1}


def _lock_writes(url: URL) -> tuple[Engine, Callable[[], None]]:
    """Take the write lock from another connection; returns the worker's impatient engine and the
    release (safe to call twice)."""
    if url.get_backend_name() == "sqlite":
        locker = sqlite3.connect(str(url.database), isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")

        def release_sqlite() -> None:
            with contextlib.suppress(sqlite3.ProgrammingError):  # already closed
                locker.execute("ROLLBACK")
                locker.close()

        engine = create_engine(url, connect_args={"timeout": 0.3, "check_same_thread": False})
        return engine, release_sqlite
    holder = create_engine(url)
    conn = holder.connect()
    transaction = conn.begin()
    conn.execute(text("LOCK TABLE alert IN EXCLUSIVE MODE"))

    def release_postgres() -> None:
        if transaction.is_active:
            transaction.rollback()
            conn.close()
            holder.dispose()

    return create_engine(url, connect_args={"options": "-c lock_timeout=300"}), release_postgres


def _retries(caplog: pytest.LogCaptureFixture) -> int:
    locked = ("database is locked", "lock timeout")
    return sum(
        "retrying" in r.getMessage() and any(w in r.getMessage() for w in locked) for r in caplog.records
    )


async def _acknowledged(
    runtime: Runtime, want: int | None = None, shards: list[int] | None = None
) -> int | bool:
    """Entries read by the group and acknowledged over ``shards`` (default: all), or whether that
    reached ``want``."""
    done = 0
    for shard in range(runtime.settings.reading_shards) if shards is None else shards:
        stream = bus.readings_stream(shard)
        for group in await runtime.redis.xinfo_groups(stream):
            if group["name"] == bus.WORKER_GROUP.encode():
                # Redis 6 (the embedded one) has no entries-read: count up to the last delivered ID.
                delivered = await runtime.redis.xrange(stream, max=group["last-delivered-id"])
                done += len(delivered) - int(group["pending"])
    return done if want is None else done >= want
