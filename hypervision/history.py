"""Bounded, downsampled history of every numeric series, in Redis, for sparklines and backtests.

Each series (``source|metric``) has one hash ``hv:history:{series}`` with one field per time bucket
(``HV_HISTORY_BUCKET_S``, a minute by default) holding ``count sum min max last last_ms``. Buckets
older than ``HV_HISTORY_HOURS`` are dropped by the same script that writes, and a series that stops
reporting expires whole, so memory is bounded by series x buckets whatever the ingest rate.

The worker adds ``history_ops`` to the MULTI that acknowledges a batch: a batch handled twice after a
crash is counted once, because the history is written in the same transaction as the XACK.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from hypervision import bus
from hypervision.domain import Reading

# Merge pre-aggregated buckets into their hashes (one script call per batch: packing one command per
# bucket cost as much as the rest of the commit), trim a hash's old buckets once it has grown past its
# allowance, and push its expiry. Lua's tostring keeps 14 significant digits.
_MERGE = """
local cutoff, allowance, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
for i, key in ipairs(KEYS) do
  local base = 3 + (i - 1) * 7
  local field = ARGV[base + 1]
  local n, s, mn, mx = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]),
    tonumber(ARGV[base + 5])
  local last, lt = tonumber(ARGV[base + 6]), tonumber(ARGV[base + 7])
  local cur = redis.call('HGET', key, field)
  if cur then
    local a, b, c, d, e, f = string.match(cur, '^(%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$')
    n = n + tonumber(a)
    s = s + tonumber(b)
    mn = math.min(mn, tonumber(c))
    mx = math.max(mx, tonumber(d))
    if tonumber(f) > lt then last, lt = tonumber(e), tonumber(f) end
  end
  redis.call('HSET', key, field, table.concat({n, s, mn, mx, last, lt}, ' '))
  if redis.call('HLEN', key) > allowance then
    for _, old in ipairs(redis.call('HKEYS', key)) do
      if tonumber(old) < cutoff then redis.call('HDEL', key, old) end
    end
  end
  redis.call('EXPIRE', key, ttl)
end
return #KEYS
"""


@dataclass
class Bucket:
    """One series' aggregate over one time bucket."""

    count: int
    total: float
    low: float
    high: float
    last: float
    last_ms: int

    def add(self, value: float, at_ms: int) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if at_ms >= self.last_ms:
            self.last, self.last_ms = value, at_ms


def aggregate(
    readings: Iterable[Reading], *, now: datetime, bucket_s: int, hours: int
) -> dict[tuple[str, int], Bucket]:
    """Numeric readings folded into (series, bucket start) aggregates; text states and readings
    older than the kept window are left out (pure: the window is measured from ``now``)."""
    cutoff = _bucket_of(now.timestamp() - hours * 3600, bucket_s)
    buckets: dict[tuple[str, int], Bucket] = {}
    for reading in readings:
        value = reading.numeric
        if value is None:
            continue
        at = reading.observed_at.timestamp()
        start = _bucket_of(at, bucket_s)
        if start < cutoff:
            continue
        at_ms = int(at * 1000)
        bucket = buckets.get((reading.key, start))
        if bucket is None:
            buckets[(reading.key, start)] = Bucket(1, value, value, value, value, at_ms)
        else:
            bucket.add(value, at_ms)
    return buckets


def history_ops(
    pipe: Pipeline, readings: Iterable[Reading], *, now: datetime, bucket_s: int, hours: int
) -> int:
    """Queue the history update of a batch on a (transactional) pipeline; returns buckets touched."""
    buckets = aggregate(readings, now=now, bucket_s=bucket_s, hours=hours)
    if not buckets:
        return 0
    cutoff = _bucket_of(now.timestamp() - hours * 3600, bucket_s)
    allowance = hours * 3600 // bucket_s + 60  # trim rarely: only once the hash has grown past it
    ttl = hours * 3600 + bucket_s
    keys: list[str] = []
    args: list[str | int] = [cutoff, allowance, ttl]
    for (series, start), b in buckets.items():
        keys.append(bus.history_key(series))
        args += [start, b.count, repr(b.total), repr(b.low), repr(b.high), repr(b.last), b.last_ms]
    pipe.eval(_MERGE, len(keys), *keys, *args)
    return len(buckets)


async def read_history(
    redis: Redis, series: str, *, now: datetime, hours: float, bucket_s: int
) -> list[dict[str, Any]]:
    """The buckets of one series over the last ``hours``, oldest first."""
    since = now.timestamp() - hours * 3600
    raw = await redis.hgetall(bus.history_key(series))
    points: list[dict[str, Any]] = []
    for field, value in raw.items():
        start = int(field)
        bucket = parse_bucket(value)
        if start + bucket_s <= since or bucket is None:
            continue
        points.append(
            {
                "t": datetime.fromtimestamp(start, UTC).isoformat(),
                "count": bucket.count,
                "avg": bucket.total / bucket.count if bucket.count else None,
                "min": bucket.low,
                "max": bucket.high,
                "last": bucket.last,
            }
        )
    points.sort(key=lambda p: str(p["t"]))
    return points


def parse_bucket(raw: bytes | str) -> Bucket | None:
    """One stored bucket (``count sum min max last last_ms``), or None when it is not one."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    fields = text.split(" ")
    if len(fields) != 6:
        return None
    try:
        count, total, low, high, last, last_ms = (float(f) for f in fields)
    except ValueError:
        return None
    return Bucket(int(count), total, low, high, last, int(last_ms))


def _bucket_of(epoch_s: float, bucket_s: int) -> int:
    return int(epoch_s // bucket_s) * bucket_s
