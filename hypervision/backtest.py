"""Backtest I/O: rebuild readings from the stored history and replay them through `alerts.backtest`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from hypervision import bus
from hypervision.domain import Reading
from hypervision.history import parse_bucket


class HistoryTooLarge(ValueError):
    """The requested period holds more readings than a backtest may replay at once."""


async def history_readings(
    redis: Redis, *, start: datetime, end: datetime, limit: int = 500_000
) -> list[Reading]:
    """The stored history between `start` and `end` as readings, in time order.

    The history keeps numeric series only, one bucket per `HV_HISTORY_BUCKET_S` (a minute by
    default): each bucket becomes one reading carrying the bucket's last value at its time. The
    series' domain, zone, unit, position and attributes come from the current picture. Text states
    (on/off...) are not in the history, so rules on them see nothing in such a backtest: replay a
    recorded readings file (`--input`) for those.
    """
    if end <= start:
        raise ValueError("the end of the period must be after its start")
    lo_ms, hi_ms = start.timestamp() * 1000, end.timestamp() * 1000
    picture = await redis.hgetall(bus.PICTURE_KEY)
    out: list[Reading] = []
    for raw_key, raw_latest in picture.items():
        series = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
        entry: dict[str, Any] = bus.loads(raw_latest)
        # The picture entry adds bookkeeping (key, received_at) to the reading's own fields.
        latest = {k: v for k, v in entry.items() if k in Reading.model_fields}
        if isinstance(latest.get("value"), str):
            continue
        buckets = await redis.hgetall(bus.history_key(series))
        for raw in buckets.values():
            bucket = parse_bucket(raw)
            if bucket is None or not lo_ms <= bucket.last_ms <= hi_ms:
                continue
            at = datetime.fromtimestamp(bucket.last_ms / 1000, UTC)
            try:
                out.append(Reading.model_validate({**latest, "value": bucket.last, "observed_at": at}))
            except ValidationError:
                continue  # a picture entry from an older format: skip the series' bucket
            if len(out) > limit:
                raise HistoryTooLarge(f"more than {limit} readings in this period: shorten it")
    out.sort(key=lambda r: r.observed_at_utc)
    return out
