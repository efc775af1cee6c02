"""The way in: validate items into readings, append them to their shard, dead-letter what is refused."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from hypervision import bus
from hypervision.config import Settings
from hypervision.domain import Reading


@dataclass(frozen=True)
class ItemError:
    """Why one item of a batch was refused: its index, the field at fault and the reason."""

    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


def validate_items(items: Sequence[Any]) -> tuple[list[Reading], list[tuple[ItemError, Any]]]:
    """Readings from a JSON list: the valid ones, and each invalid item with what is wrong with it."""
    readings: list[Reading] = []
    rejected: list[tuple[ItemError, Any]] = []
    for index, item in enumerate(items):
        try:
            readings.append(Reading.model_validate(item))
        except ValidationError as err:
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(item)"
            rejected.append((ItemError(index, field, first["msg"]), item))
    return readings, rejected


class Ingestor:
    """Appends readings to the sharded streams and refused items to the dead-letter stream."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.shards = settings.reading_shards
        self.maxlen = settings.readings_maxlen
        self.deadletter_maxlen = settings.deadletter_maxlen
        self.raw_max = settings.deadletter_raw_max

    async def accept(self, readings: Sequence[Reading]) -> int:
        """Append readings (pipelined, one round trip); returns how many were appended."""
        if not readings:
            return 0
        by_shard: dict[int, list[bytes]] = defaultdict(list)
        for reading in readings:
            by_shard[bus.shard_of(reading, self.shards)].append(bus.encode_reading(reading))
        pipe = self.redis.pipeline(transaction=False)
        for shard, encoded in by_shard.items():
            stream = bus.readings_stream(shard)
            for raw in encoded:
                pipe.xadd(stream, {bus.READING_FIELD: raw}, maxlen=self.maxlen, approximate=True)
        await pipe.execute()
        return len(readings)

    async def reject(self, *, source: str, reason: str, raw: Any, at: datetime) -> None:
        """Keep a refused item, size-capped, with the source and the reason, for an operator to inspect."""
        await self.reject_many([(source, reason, raw)], at=at)

    async def reject_many(self, items: Sequence[tuple[str, str, Any]], *, at: datetime) -> None:
        if not items:
            return
        pipe = self.redis.pipeline(transaction=False)
        for source, reason, raw in items:
            pipe.xadd(
                bus.DEADLETTER_STREAM,
                deadletter_fields(source, reason, raw, at=at, raw_max=self.raw_max),  # type: ignore[arg-type]
                maxlen=self.deadletter_maxlen,
                approximate=True,
            )
        await pipe.execute()


def deadletter_fields(source: str, reason: str, raw: Any, *, at: datetime, raw_max: int) -> dict[str, Any]:
    """One dead-letter entry: who sent it, why it was refused, what it was (size-capped), when."""
    return {
        "source": source[:200],
        "reason": reason[:1000],
        "raw": _capped(raw, raw_max),
        "at": at.isoformat(),
    }


def _capped(raw: Any, limit: int) -> bytes:
    if isinstance(raw, bytes):
        data = raw
    elif isinstance(raw, str):
        data = raw.encode()
    else:
        try:
            data = bus.dumps(raw)
        except TypeError:
            data = repr(raw).encode()
    return data if len(data) <= limit else data[:limit] + b"...[truncated]"
