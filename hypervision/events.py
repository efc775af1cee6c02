"""The events stream: writers change a Redis mirror and append the event in one MULTI; readers snapshot."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from hypervision import bus


@dataclass(frozen=True, slots=True)
class Event:
    """One thing screens see: ``type`` says what, ``topic`` who subscribes, ``data`` the payload."""

    type: str
    topic: str
    data: dict[str, Any]

    def fields(self) -> dict[str, bytes | str]:
        return {"type": self.type, "topic": self.topic, "data": bus.dumps(self.data)}


@dataclass(frozen=True, slots=True)
class MirrorSet:
    """Set one field of a mirror hash (the current state a snapshot reads)."""

    key: str
    field: str
    value: dict[str, Any]


@dataclass(frozen=True, slots=True)
class MirrorDelete:
    key: str
    field: str


@dataclass(frozen=True, slots=True)
class MirrorPushTail:
    """Append to a capped list (the logbook tail)."""

    key: str
    value: dict[str, Any]
    keep: int = 200


MirrorOp = MirrorSet | MirrorDelete | MirrorPushTail


@dataclass
class Publication:
    """Events and the mirror changes that go with them, applied together."""

    events: list[Event] = field(default_factory=list)
    mirror: list[MirrorOp] = field(default_factory=list)

    def extend(self, other: Publication) -> None:
        self.events.extend(other.events)
        self.mirror.extend(other.mirror)

    def __bool__(self) -> bool:
        return bool(self.events or self.mirror)


def add_to_pipeline(pipe: Pipeline, publication: Publication, *, events_maxlen: int) -> None:
    """Queue a publication on a transactional pipeline (the caller may add more, e.g. XACK)."""
    # A run of sets on one hash goes as one HSET: a worker's batch sets hundreds of picture fields,
    # and one command per field cost a third of the worker's time (packing and parsing replies).
    run_key: str | None = None
    run: dict[str, bytes] = {}
    for op in publication.mirror:
        if isinstance(op, MirrorSet) and op.key == run_key:
            run[op.field] = bus.dumps(op.value)
            continue
        if run_key is not None:
            pipe.hset(run_key, mapping=run)  # type: ignore[arg-type]
            run_key, run = None, {}
        if isinstance(op, MirrorSet):
            run_key, run = op.key, {op.field: bus.dumps(op.value)}
        elif isinstance(op, MirrorDelete):
            pipe.hdel(op.key, op.field)
        else:
            pipe.rpush(op.key, bus.dumps(op.value))
            pipe.ltrim(op.key, -op.keep, -1)
    if run_key is not None:
        pipe.hset(run_key, mapping=run)  # type: ignore[arg-type]
    for event in publication.events:
        pipe.xadd(bus.EVENTS_STREAM, event.fields(), maxlen=events_maxlen, approximate=True)  # type: ignore[arg-type]


async def publish(redis: Redis, publication: Publication, *, events_maxlen: int) -> list[str]:
    """Apply mirrors and append events atomically; returns the new events' cursors."""
    if not publication:
        return []
    pipe = redis.pipeline(transaction=True)
    add_to_pipeline(pipe, publication, events_maxlen=events_maxlen)
    results = await pipe.execute()
    return [_text(r) for r in results[-len(publication.events) :]] if publication.events else []


@dataclass(frozen=True)
class Snapshot:
    """The mirrors as they were exactly at ``cursor`` (read in one MULTI with the stream's last ID)."""

    cursor: str
    picture: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    sources: list[dict[str, Any]]
    logbook: list[dict[str, Any]]
    oldest_cursor: str


async def read_snapshot(redis: Redis) -> Snapshot:
    pipe = redis.pipeline(transaction=True)
    pipe.xrevrange(bus.EVENTS_STREAM, count=1)
    pipe.xrange(bus.EVENTS_STREAM, count=1)
    pipe.hvals(bus.PICTURE_KEY)
    pipe.hvals(bus.OPEN_ALERTS_KEY)
    pipe.hvals(bus.OPEN_TASKS_KEY)
    pipe.hvals(bus.SOURCES_HEALTH_KEY)
    pipe.lrange(bus.LOGBOOK_TAIL_KEY, 0, -1)
    last, first, picture, alerts, tasks, sources, logbook = await pipe.execute()
    return Snapshot(
        cursor=_text(last[0][0]) if last else "0-0",
        oldest_cursor=_text(first[0][0]) if first else "0-0",
        picture=_decode_all(picture),
        alerts=_decode_all(alerts),
        tasks=_decode_all(tasks),
        sources=_decode_all(sources),
        logbook=_decode_all(logbook),
    )


def decode_entry(entry_id: bytes | str, fields: dict[bytes, bytes]) -> tuple[str, Event]:
    return _text(entry_id), Event(
        type=_text(fields[b"type"]), topic=_text(fields[b"topic"]), data=bus.loads(fields[b"data"])
    )


async def read_after(redis: Redis, cursor: str, *, count: int = 1000) -> list[tuple[str, Event]]:
    """Events strictly after ``cursor``, in stream order."""
    entries: Any = await redis.xrange(bus.EVENTS_STREAM, min=f"({cursor}", count=count)
    return [decode_entry(entry_id, fields) for entry_id, fields in entries]


def _decode_all(values: Iterable[bytes]) -> list[dict[str, Any]]:
    return [bus.loads(v) for v in values]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
