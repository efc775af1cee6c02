"""Every Redis stream, group and key name (prefix ``hv:``) and the codec of what travels on them."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from hypervision.domain import Reading

PREFIX = "hv:"

WORKER_GROUP = f"{PREFIX}workers"
EVENTS_STREAM = f"{PREFIX}events"
DEADLETTER_STREAM = f"{PREFIX}deadletter"
PICTURE_KEY = f"{PREFIX}picture"
OPEN_ALERTS_KEY = f"{PREFIX}alerts:open"
OPEN_TASKS_KEY = f"{PREFIX}tasks:open"
SOURCES_HEALTH_KEY = f"{PREFIX}sources:health"
LOGBOOK_TAIL_KEY = f"{PREFIX}logbook:tail"
WORKERS_ALIVE_KEY = f"{PREFIX}workers:alive"  # sorted set: worker name -> heartbeat expiry (ms)
PURGE_DONE_KEY = f"{PREFIX}housekeeping:purged"  # expires a day after the last privacy purge
RULES_DIGEST_KEY = f"{PREFIX}rules:digest"  # set by a reload; workers in every process follow it

READING_FIELD = b"r"


def readings_stream(shard: int) -> str:
    """The stream of one shard; ``{n}`` is a Redis Cluster hash tag so a shard's keys share a slot."""
    return f"{PREFIX}readings:{{{shard}}}"


def lease_key(shard: int) -> str:
    return f"{PREFIX}lease:{{{shard}}}"


def lease_epoch_key(shard: int) -> str:
    """Incremented at every change of owner: the fencing token a commit is checked against."""
    return f"{PREFIX}lease-epoch:{{{shard}}}"


def engine_state_key(shard: int) -> str:
    return f"{PREFIX}engine:{{{shard}}}"


def login_failures_key(scope: str, who: str) -> str:
    """Failed sign-ins of one user (``scope`` "user") or one client address ("addr"), expiring."""
    return f"{PREFIX}login:fail:{scope}:{who}"


def history_key(series: str) -> str:
    """Downsampled history of one series (``source|metric``) for sparklines and backtests."""
    return f"{PREFIX}history:{series}"


def shard_of(reading: Reading, shards: int) -> int:
    """Shard by zone when there is one, so zone-wide rule combinations see all their inputs together."""
    if shards == 1:
        return 0
    key = reading.zone or reading.source
    return zlib.crc32(key.encode()) % shards


def encode_reading(reading: Reading) -> bytes:
    return reading.model_dump_json(exclude_defaults=True).encode()


def decode_reading(raw: bytes | str) -> Reading:
    return Reading.model_validate_json(raw)


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default)


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def stream_id_tuple(entry_id: str) -> tuple[int, int]:
    """Order of two stream entry IDs (``ms-seq``); raises ValueError on a malformed cursor."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
