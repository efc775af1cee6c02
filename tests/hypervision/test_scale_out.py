"""Two worker processes share the shards; one is SIGKILLed mid-stream; every reading counts once.

Real processes (`python -m hypervision worker`), the test Redis and the test database. N sources each
send one NO₂ reading over the information threshold, so exactly N alerts must open, the picture must
hold N series, and the history (written in the same MULTI as the XACK) must have counted each
reading exactly once, whatever the dead worker had half done.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func
from sqlmodel import Session, select

from hypervision import bus
from hypervision.bus import WORKERS_ALIVE_KEY as ALIVE_KEY
from hypervision.db import create_schema, make_engine
from hypervision.domain import Reading
from hypervision.ingest import Ingestor
from hypervision.models.alert import Alert, AlertHistory
from hypervision.worker import LeaseLost, Worker
from tests.support import eventually, reading

pytestmark = pytest.mark.fault

N = 240
SHARDS = 4


class Workers:
    """Worker subprocesses whose logs go to files (read on failure)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "hypervision", "--log-format", "json", "worker", "--name", name],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in self.logs.glob("*.log")
        )


@pytest.fixture
def workers(settings, redis_url: str, db_url: str, tmp_path: Path) -> Iterator[Workers]:
    engine = make_engine(db_url)
    create_schema(engine)
    engine.dispose()
    env = {
        **os.environ,
        "HV_REDIS_URL": redis_url,
        "HV_DATABASE_URL": db_url,
        "HV_DATA_DIR": str(tmp_path / "var"),
        "HV_SECRET_KEY": "scale-out-test",
        "HV_READING_SHARDS": str(SHARDS),
        "HV_LEASE_TTL_MS": "1500",
        "HV_WORKER_BATCH": "8",  # small batches: the kill lands between and inside commits
        "HV_WORKER_BLOCK_MS": "50",
        "HV_TICK_INTERVAL_S": "0.5",
    }
    group = Workers(env, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


async def _owners(redis: Redis) -> dict[int, str]:
    owners = {}
    for shard in range(SHARDS):
        value = await redis.get(bus.lease_key(shard))
        if value is not None:
            owners[shard] = value.decode()
    return owners


async def _backlog(redis: Redis) -> int:
    waiting = 0
    for shard in range(SHARDS):
        stream = bus.readings_stream(shard)
        for group in await redis.xinfo_groups(stream):
            waiting += int(group["pending"])
        last = (await redis.xinfo_groups(stream))[0]["last-delivered-id"].decode()
        waiting += len(await redis.xrange(stream, min=f"({last}"))
    return waiting


async def test_a_killed_worker_loses_nothing_and_duplicates_nothing(
    workers: Workers, settings, redis, db_url
):
    workers.start("w-a")
    workers.start("w-b")
    # Both hold shards before any reading arrives, so the kill takes work away from a live owner.
    try:
        await eventually(lambda: _two_owners(redis), timeout=60)
    except AssertionError:
        pytest.fail(f"the two workers never shared the shards: {await _owners(redis)}\n{workers.tail()}")

    ingest = Ingestor(redis, settings.model_copy(update={"reading_shards": SHARDS}))
    now = datetime.now(UTC).isoformat()
    items = [
        Reading.model_validate(
            reading(
                source=f"air:station:S{i:03d}",
                zone=f"zone-{i:03d}",
                metric="no2",
                value=250.0,
                observed_at=now,
            )
        )
        for i in range(N)
    ]
    started = time.monotonic()
    killed_at = 0.0
    orphaned = 0
    for chunk in range(0, N, 10):
        await ingest.accept(items[chunk : chunk + 10])
        if chunk == N // 2:
            # Mid-stream: w-a has batches in flight (pending, maybe half applied in SQL).
            workers.kill("w-a")
            killed_at = time.monotonic()
            orphaned = await _pending_of(redis, "w-a")
        await asyncio.sleep(0.02)

    async def settled() -> bool:
        return await redis.hlen(bus.PICTURE_KEY) == N and await _backlog(redis) == 0

    try:
        await eventually(settled, timeout=60, interval=0.1)
    except AssertionError:
        dead = await redis.xrange(bus.DEADLETTER_STREAM)
        orphans = await _stranded(redis)
        pytest.fail(
            f"not settled: picture={await redis.hlen(bus.PICTURE_KEY)} backlog={await _backlog(redis)} "
            f"stranded={orphans} dead-lettered={dead[:3]}\n{workers.tail()}"
        )
    recovered_s = time.monotonic() - killed_at
    total_s = time.monotonic() - started
    print(
        f"\nscale-out: {N} readings, kill at {N // 2} with {orphaned} in flight on the victim: settled "
        f"{total_s:.1f} s after the first, {recovered_s:.1f} s after the kill (lease TTL 1.5 s)"
    )
    owners = await _owners(redis)
    assert set(owners.values()) == {"w-b"}, owners

    # Every reading's effects committed exactly once: history counts one reading per series.
    counts = []
    for i in range(N):
        raw = await redis.hgetall(bus.history_key(f"air:station:S{i:03d}|no2"))
        counts.append(sum(int(float(v.split()[0])) for v in raw.values()))
    assert counts == [1] * N, [(i, c) for i, c in enumerate(counts) if c != 1]

    # Exactly N alerts, one per source, each raised once (one `fire` in its audit trail).
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            alerts = session.exec(select(Alert).where(Alert.rule_id == "air.no2.hourly")).all()
            fires = session.exec(
                select(AlertHistory.fingerprint, func.count())
                .where(AlertHistory.event == "fire")
                .group_by(AlertHistory.fingerprint)
            ).all()
    finally:
        engine.dispose()
    assert len(alerts) == N
    assert len({a.source for a in alerts}) == N
    assert len({a.fingerprint for a in alerts}) == N
    assert sorted(c for _, c in fires) == [1] * N
    # The screens' mirror agrees with SQL: no alert missing, none twice (a batch replayed after its
    # SQL commit publishes its moves again).
    mirrored = sorted(bus.loads(v)["source"] for v in await redis.hvals(bus.OPEN_ALERTS_KEY))
    assert mirrored == sorted(a.source for a in alerts)


async def _pending_of(redis: Redis, consumer: str) -> int:
    """Entries delivered to ``consumer`` and not acknowledged, over every shard."""
    total = 0
    for shard in range(SHARDS):
        summary = await redis.xpending(bus.readings_stream(shard), bus.WORKER_GROUP)
        for entry in summary.get("consumers") or []:
            if entry["name"] in (consumer, consumer.encode()):
                total += int(entry["pending"])
    return total


async def _stranded(redis: Redis) -> int:
    """Entries pending under a consumer that does not own the shard they belong to."""
    owners = await _owners(redis)
    total = 0
    for shard in range(SHARDS):
        summary = await redis.xpending(bus.readings_stream(shard), bus.WORKER_GROUP)
        for entry in summary.get("consumers") or []:
            name = entry["name"].decode() if isinstance(entry["name"], bytes) else entry["name"]
            if name != owners.get(shard):
                total += int(entry["pending"])
    return total


async def _two_owners(redis: Redis) -> bool:
    return len(set((await _owners(redis)).values())) == 2


# -- the two windows of a takeover, reproduced deterministically in one process ----------------------
def _worker(runtime, name: str, **overrides) -> Worker:
    return Worker(
        redis=runtime.redis,
        db=runtime.db,
        settings=runtime.settings.model_copy(update=overrides),
        rules=runtime.load_rule_set,
        clock=runtime.clock,
        name=name,
    )


async def _steps(worker: Worker, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await worker.step()


async def test_a_batch_replayed_after_its_sql_commit_still_reaches_the_screens(runtime, redis):
    first = _worker(runtime, "first")
    await first.start()

    async def die_before_multi(*args, **kwargs):
        raise ConnectionError("killed between the SQL commit and the MULTI")

    first._commit = die_before_multi  # type: ignore[method-assign]
    await runtime.ingestor.accept([Reading.model_validate(reading(metric="no2", value=250.0))])
    with pytest.raises(ConnectionError):
        await _steps(first, 2)
    with Session(runtime.db) as session:
        assert len(session.exec(select(Alert)).all()) == 1  # the move is in SQL...
    assert await redis.hlen(bus.OPEN_ALERTS_KEY) == 0  # ...and nowhere else yet
    await first.leases.release_all()  # the process is gone: its leases go with it

    second = _worker(runtime, "second")
    await second.start()
    await _steps(second, 1)
    assert await _backlog_of(redis, runtime.settings.reading_shards) == 0  # the replay was acknowledged
    assert await redis.hlen(bus.PICTURE_KEY) == 1
    assert await redis.hlen(bus.OPEN_ALERTS_KEY) == 1, "the replayed alert is missing from the screens"


async def test_entries_read_by_a_worker_that_lost_its_lease_are_reclaimed(runtime, redis):
    stalled = _worker(runtime, "stalled")
    await stalled.start()
    await _steps(stalled, 0.2)  # caught up on every shard it owns
    # It stalls past its lease: the leases lapse and it drops out of the live set, unaware.
    for shard in range(runtime.settings.reading_shards):
        await redis.delete(bus.lease_key(shard))
    await redis.zrem(ALIVE_KEY, "stalled")
    heir = _worker(runtime, "heir", claim_idle_ms=100)
    await heir.start()
    assert set(heir.shards) == set(range(runtime.settings.reading_shards))

    await runtime.ingestor.accept([Reading.model_validate(reading(value=12.0))])
    with pytest.raises(LeaseLost):
        await _steps(stalled, 2)  # it reads the new entry, then its commit is refused
    await _steps(heir, 2)
    assert await redis.hlen(bus.PICTURE_KEY) == 1, "the entry stayed pending under the stalled worker"


async def _backlog_of(redis: Redis, shards: int) -> int:
    waiting = 0
    for shard in range(shards):
        stream = bus.readings_stream(shard)
        group = (await redis.xinfo_groups(stream))[0]
        waiting += int(group["pending"])
        waiting += len(await redis.xrange(stream, min=f"({group['last-delivered-id'].decode()}"))
    return waiting
