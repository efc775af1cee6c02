"""Downsampled history: per-bucket aggregates in Redis, bounded, exact after replays, served by the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from hypervision import bus
from hypervision.domain import Reading
from hypervision.history import aggregate, history_ops, parse_bucket, read_history
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, reading

NOW = datetime(2026, 11, 30, 12, 0, 30, tzinfo=UTC)
SERIES = "air:station:H1|pm10"


def _reading(value: float | str, at: datetime, source: str = "air:station:H1") -> Reading:
    return Reading(
        source=source, domain="air", metric="pm10", value=value, unit="µg/m³", observed_at=at, zone="z"
    )


async def _write(redis: Redis, readings: list[Reading], *, now: datetime = NOW, hours: int = 24) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        history_ops(pipe, readings, now=now, bucket_s=60, hours=hours)
        await pipe.execute()


def test_aggregate_folds_a_minute_and_leaves_out_text_and_too_old_readings():
    minute = NOW.replace(second=0)
    buckets = aggregate(
        [
            _reading(10.0, minute + timedelta(seconds=5)),
            _reading(30.0, minute + timedelta(seconds=50)),
            _reading(20.0, minute + timedelta(seconds=20)),  # late within the minute: not the last
            _reading("on", minute),
            _reading(99.0, NOW - timedelta(hours=25)),
        ],
        now=NOW,
        bucket_s=60,
        hours=24,
    )
    assert list(buckets) == [(SERIES, int(minute.timestamp()))]
    b = buckets[(SERIES, int(minute.timestamp()))]
    assert (b.count, b.total, b.low, b.high, b.last) == (3, 60.0, 10.0, 30.0, 30.0)


async def test_batches_merge_into_the_same_bucket(redis: Redis):
    minute = NOW.replace(second=0)
    await _write(redis, [_reading(10.0, minute), _reading(50.0, minute + timedelta(seconds=40))])
    await _write(redis, [_reading(5.0, minute + timedelta(seconds=20))])
    await _write(redis, [_reading(7.0, minute - timedelta(minutes=1))])
    points = await read_history(redis, SERIES, now=NOW, hours=1, bucket_s=60)
    assert [p["count"] for p in points] == [1, 3]
    latest = points[-1]
    assert latest["t"] == minute.isoformat()
    assert (latest["min"], latest["max"], latest["last"]) == (5.0, 50.0, 50.0)
    assert abs(latest["avg"] - 65.0 / 3) < 1e-9


async def test_history_is_bounded_and_expires(redis: Redis):
    # Two days of one reading a minute with a 2-hour window: the hash never holds much more than 2 h.
    start = NOW - timedelta(days=2)
    for hour in range(48):
        at = start + timedelta(hours=hour)
        batch = [_reading(float(m), at + timedelta(minutes=m)) for m in range(60)]
        await _write(redis, batch, now=at + timedelta(minutes=59), hours=2)
    size = await redis.hlen(bus.history_key(SERIES))
    assert 120 <= size <= 120 + 60 + 60, size
    ttl = await redis.ttl(bus.history_key(SERIES))
    assert 0 < ttl <= 2 * 3600 + 60
    points = await read_history(redis, SERIES, now=start + timedelta(hours=48), hours=2, bucket_s=60)
    assert len(points) == 120
    assert points[0]["t"] < points[-1]["t"]


async def test_worker_records_history_and_api_serves_it(live: LiveServer, make_token):
    token = make_token(Role.ADMIN)
    now = datetime.now(UTC).replace(microsecond=0)
    items = [
        reading(
            source="air:station:H2", value=float(v), observed_at=(now - timedelta(minutes=2 - i)).isoformat()
        )
        for i, v in enumerate((11, 22, 33))
    ]
    async with live.client(token) as http:
        assert (await http.post("/api/ingest/readings", json=items)).json()["accepted"] == 3

        async def served():
            resp = await http.get("/api/history", params={"series": "air:station:H2|pm10", "hours": 1})
            assert resp.status_code == 200, resp.text
            points = resp.json()["points"]
            return points if sum(p["count"] for p in points) == 3 else None

        points = await eventually(served)
        assert [p["last"] for p in points] == [11.0, 22.0, 33.0]
        assert (await http.get("/api/history", params={"series": "nopipe"})).status_code == 422
        assert (await http.get("/api/history", params={"series": "a|b", "hours": 1000})).status_code == 422
    async with live.client() as anonymous:
        assert (await anonymous.get("/api/history", params={"series": "a|b"})).status_code == 401


async def test_stored_buckets_parse_back_and_junk_is_refused(redis: Redis):
    minute = NOW.replace(second=0)
    await _write(redis, [_reading(4.0, minute), _reading(6.0, minute + timedelta(seconds=9))])
    raw = await redis.hget(bus.history_key(SERIES), str(int(minute.timestamp())))
    bucket = parse_bucket(raw)
    assert bucket is not None
    assert (bucket.count, bucket.total, bucket.low, bucket.high, bucket.last) == (2, 10.0, 4.0, 6.0, 6.0)
    assert bucket.last_ms == int((minute + timedelta(seconds=9)).timestamp() * 1000)
    assert parse_bucket(b"1 2 3") is None
    assert parse_bucket("a b c d e f") is None
