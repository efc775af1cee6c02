"""SIGKILL a worker in the middle of the stream, start another: every reading handled exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from hypervision import bus
from hypervision.domain import Reading
from hypervision.events import decode_entry
from hypervision.models.alert import Alert
from hypervision.runtime import Runtime
from tests.support import eventually

pytestmark = pytest.mark.fault

N_READINGS = 6_000
EVERY_NTH_ALERTS = 10
RULES = """
rules:
  - id: no2-high
    title: "NO2 {value} at {source}"
    select: {domain: air, metric: no2}
    when: {op: ">", value: 200}
    severity: warning
"""


def _worker(runtime: Runtime, name: str, rules_file: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        HV_REDIS_URL=runtime.settings.redis_url or "",
        HV_DATABASE_URL=runtime.settings.sqlalchemy_url,
        HV_SECRET_KEY="crash-test",
        HV_READING_SHARDS=str(runtime.settings.reading_shards),
        HV_WORKER_BATCH="100",
        HV_LEASE_TTL_MS="3000",
        HV_DATA_DIR=str(runtime.settings.data_dir),
        HV_RULES_FILES=json.dumps([str(rules_file)]),
    )
    return subprocess.Popen([sys.executable, "-m", "hypervision", "worker", "--name", name], env=env)


async def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(runtime: Runtime, tmp_path: Path):
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(RULES)
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    readings = [
        Reading(source=f"air:station:S{i:05d}", domain="air", metric="no2", unit="µg/m³",
                value=450.0 if i % EVERY_NTH_ALERTS == 0 else 20.0,
                observed_at=start + timedelta(milliseconds=i), zone=f"zone-{i % 7}")
        for i in range(N_READINGS)
    ]  # fmt: skip
    await runtime.ingestor.accept(readings)

    first = _worker(runtime, "doomed", rules_file)
    try:
        await eventually(lambda: _picture_size(runtime, at_least=N_READINGS // 10), timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        done_before = await runtime.redis.hlen(bus.PICTURE_KEY)
        assert done_before < N_READINGS, "the worker finished before it could be killed mid-stream"
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker(runtime, "survivor", rules_file)
    try:
        await eventually(lambda: _picture_size(runtime, at_least=N_READINGS), timeout=120)
        await eventually(lambda: _nothing_pending(runtime), timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(15)

    with Session(runtime.db) as session:
        alerts = session.exec(select(Alert)).all()
    assert len(alerts) == N_READINGS // EVERY_NTH_ALERTS
    assert len({a.fingerprint for a in alerts}) == len(alerts)

    events = [decode_entry(i, f)[1] for i, f in await runtime.redis.xrange(bus.EVENTS_STREAM)]
    fired = Counter(e.data["source"] for e in events if e.type == "alert.changed")
    assert len(fired) == N_READINGS // EVERY_NTH_ALERTS and set(fired.values()) == {1}
    shown = Counter(r["key"] for e in events if e.type == "picture.delta" for r in e.data["readings"])
    assert len(shown) == N_READINGS and set(shown.values()) == {1}


async def _picture_size(runtime: Runtime, *, at_least: int) -> bool:
    return int(await runtime.redis.hlen(bus.PICTURE_KEY)) >= at_least


async def _nothing_pending(runtime: Runtime) -> bool:
    for shard in range(runtime.settings.reading_shards):
        info = await runtime.redis.xpending(bus.readings_stream(shard), bus.WORKER_GROUP)
        if info["pending"]:
            return False
    return True
