"""The WebSocket hub: one reader of the events stream per process, fanned out to subscribed clients.

Each client has a cursor (the last events-stream ID it was sent) and receives only events after it,
so a replay after a reconnect and the live feed can overlap without a duplicate, and nothing is
skipped between them. See docs/ws-protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from hypervision import bus
from hypervision.events import Event, Snapshot, decode_entry, read_after, read_snapshot

log = logging.getLogger(__name__)

TOPIC_ROOTS = ("picture", "alerts", "tasks", "logbook", "sources")


def topic_matches(subscribed: Iterable[str], topic: str) -> bool:
    """``picture`` covers ``picture:air``; ``tasks:helpline`` covers only that team."""
    return any(topic == sub or topic.startswith(sub + ":") for sub in subscribed)


def snapshot_state(snapshot: Snapshot, topics: Iterable[str]) -> dict[str, Any]:
    """The part of a snapshot that the subscribed topics cover."""
    topics = list(topics)
    state: dict[str, Any] = {}
    picture = [e for e in snapshot.picture if topic_matches(topics, f"picture:{e.get('domain')}")]
    if picture or any(t.startswith("picture") for t in topics):
        state["picture"] = picture
    if "alerts" in topics:
        state["alerts"] = snapshot.alerts
    tasks = [t for t in snapshot.tasks if topic_matches(topics, f"tasks:{t.get('team')}")]
    if tasks or any(t.startswith("tasks") for t in topics):
        state["tasks"] = tasks
    if "logbook" in topics:
        state["logbook"] = snapshot.logbook
    if "sources" in topics:
        state["sources"] = snapshot.sources
    return state


def event_frame(cursor: str, event: Event) -> dict[str, Any]:
    return {"type": "event", "cursor": cursor, "topic": event.topic, "event": event.type, "data": event.data}


def after(a: str, b: str) -> bool:
    """True when stream ID ``a`` comes after ``b``."""
    return bus.stream_id_tuple(a) > bus.stream_id_tuple(b)


@dataclass(eq=False)
class Subscriber:
    """A connected client as the hub sees it: its topics, cursor and outgoing queue."""

    topics: frozenset[str] = frozenset()
    cursor: str = "0-0"
    live: bool = False
    held: list[tuple[str, Event]] = field(default_factory=list)
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=lambda: asyncio.Queue(1000))
    overflowed: bool = False

    def offer(self, cursor: str, event: Event) -> None:
        if not self.topics or not after(cursor, self.cursor):
            return
        if not self.live:
            self.held.append((cursor, event))
            return
        self.cursor = cursor
        if topic_matches(self.topics, event.topic):
            self.push(event_frame(cursor, event))

    def push(self, frame: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflowed = True


class Hub:
    """Reads ``hv:events`` from the current end and hands every entry to every subscriber."""

    def __init__(self, redis: Redis, *, queue_max: int = 1000, block_ms: int = 1000) -> None:
        self.redis = redis
        self.queue_max = queue_max
        self.block_ms = block_ms
        self.subscribers: set[Subscriber] = set()
        self.position = "0-0"
        self._ready = asyncio.Event()

    def new_subscriber(self) -> Subscriber:
        sub = Subscriber(queue=asyncio.Queue(self.queue_max))
        self.subscribers.add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._follow(stop)
            except (RedisError, OSError) as err:
                log.warning("hub: events stream unreadable (%s); retrying in 1 s", err)
                await asyncio.sleep(1.0)

    async def _follow(self, stop: asyncio.Event) -> None:
        if not self._ready.is_set():
            last = await self.redis.xrevrange(bus.EVENTS_STREAM, count=1)
            self.position = last[0][0].decode() if last else "0-0"
            self._ready.set()
        while not stop.is_set():
            response = await self.redis.xread(
                {bus.EVENTS_STREAM: self.position}, count=1000, block=self.block_ms
            )
            for _stream, entries in response or []:
                for entry_id, fields in entries:
                    cursor, event = decode_entry(entry_id, fields)
                    self.position = cursor
                    for sub in list(self.subscribers):
                        sub.offer(cursor, event)

    async def subscribe(self, sub: Subscriber, topics: Iterable[str], since: str | None) -> None:
        """Start (or restart) a subscription: replay after ``since`` or send a snapshot, then go live."""
        await self._ready.wait()
        sub.topics = frozenset(topics)
        sub.live = False
        sub.held = []
        sub.cursor = "0-0"  # hold everything the reader sees from now on
        resync_reason: str | None = None
        if since is not None:
            try:
                bus.stream_id_tuple(since)
            except ValueError:
                resync_reason = "malformed cursor"
            else:
                first = await self.redis.xrange(bus.EVENTS_STREAM, count=1)
                oldest = first[0][0].decode() if first else None
                if oldest is not None and after(oldest, since):
                    resync_reason = "cursor older than the retained events"
        if since is None or resync_reason is not None:
            snapshot = await read_snapshot(self.redis)
            sub.push(
                {
                    "type": "snapshot",
                    "cursor": snapshot.cursor,
                    "topics": sorted(sub.topics),
                    "resync": resync_reason is not None,
                    "reason": resync_reason,
                    "state": snapshot_state(snapshot, sub.topics),
                }
            )
            sub.cursor = snapshot.cursor
        else:
            sub.cursor = since
            sub.push({"type": "replay", "since": since, "topics": sorted(sub.topics)})
            while True:
                batch = await read_after(self.redis, sub.cursor, count=1000)
                if not batch:
                    break
                for cursor, event in batch:
                    sub.cursor = cursor
                    if topic_matches(sub.topics, event.topic):
                        sub.push(event_frame(cursor, event))
        sub.live = True
        held, sub.held = sub.held, []
        for cursor, event in held:
            sub.offer(cursor, event)
