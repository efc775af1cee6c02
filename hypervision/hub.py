"""The WebSocket hub: one reader of the events stream per process, fanned out to subscribed clients.

Each client has a cursor (the last events-stream ID it was sent) and receives only what comes after
it, so a replay after a reconnect and the live feed can overlap without a duplicate, and nothing is
skipped between them. Picture deltas are merged per tick; the rest goes out at once, after the
pending deltas, so cursors only ever increase. Handing a unit to a client never waits: each has a
bounded queue drained by its own writer, and a client that overflows it is resynced from a fresh
snapshot. See docs/ws-protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hypervision import bus
from hypervision.coalesce import Coalescer, CursorKey, Frame, Unit, control
from hypervision.config import Settings
from hypervision.events import Snapshot, decode_entry, read_snapshot
from hypervision.ws_protocol import PING, encode, snapshot_frame

log = logging.getLogger(__name__)

WS_RESYNCS = Counter(
    "hypervision_ws_resyncs_total", "Snapshots sent instead of a replay or after an overflow", ["reason"]
)
WS_OVERFLOWS = Counter(
    "hypervision_ws_queue_overflows_total", "Clients whose bounded send queue overflowed (frames dropped)"
)

PING_FRAME = control("ping", PING)
REPLAY_BATCH = 1000
NO_CURSOR: CursorKey = (0, 0)

# Why a client gets a snapshot flagged `resync` (metric label -> the reason shown to the client).
RESYNC_REASONS = {
    "malformed": "malformed cursor",
    "stream_reset": "cursor unknown: the events stream is empty or restarted (was Redis reset?)",
    "too_old": "cursor older than the retained events",
    "too_many": "too many events to replay",
    "overflow": "send queue overflow: the client did not keep up",
}


class Subscriber:
    """A connected client as the hub sees it: its topics, cursor and bounded queue of frames."""

    __slots__ = (
        "cursor_key",
        "frames",
        "held",
        "holding",
        "live",
        "lock",
        "needs_resync",
        "queue_max",
        "topics",
        "wake",
    )

    def __init__(self, queue_max: int) -> None:
        self.topics: frozenset[str] = frozenset()
        self.cursor_key: CursorKey = NO_CURSOR
        self.live = False  # units go straight to the queue
        self.holding = False  # a subscription is starting: units wait in `held`
        self.held: list[Unit] = []
        self.frames: deque[Frame] = deque()
        self.wake = asyncio.Event()
        self.queue_max = queue_max
        self.needs_resync = False
        self.lock = asyncio.Lock()  # one subscription change at a time

    def offer(self, unit: Unit) -> None:
        """A unit the hub just read; called for every client, so it must never wait."""
        if self.live:
            self.deliver(unit)
        elif self.holding:
            self.held.append(unit)
            if len(self.held) > self.queue_max:
                self.overflow()

    def deliver(self, unit: Unit) -> None:
        if unit.last_key <= self.cursor_key:
            return
        frame = unit.frame_for(self.topics, self.cursor_key)
        self.cursor_key = unit.last_key
        if frame is not None:
            self.push(frame)

    def push(self, frame: Frame) -> None:
        if len(self.frames) >= self.queue_max:
            self.overflow()
            return
        self.frames.append(frame)
        self.wake.set()

    def overflow(self) -> None:
        """Drop what was queued; the writer will send a fresh snapshot (or give up on the client)."""
        WS_OVERFLOWS.inc()
        self.frames.clear()
        self.held = []
        self.live = self.holding = False
        self.needs_resync = True
        self.wake.set()

    def begin(self, topics: Iterable[str]) -> None:
        self.topics = frozenset(topics)
        self.live = False
        self.holding = True
        self.held = []
        self.needs_resync = False

    def go_live(self) -> None:
        if self.needs_resync:  # overflowed while starting: the writer resyncs
            return
        held, self.held = self.held, []
        self.live, self.holding = True, False
        for unit in held:
            self.deliver(unit)


class Hub:
    """Reads ``hv:events`` from its current end and hands every unit to every subscriber."""

    def __init__(
        self,
        redis: Redis,
        settings: Settings | None = None,
        *,
        queue_max: int | None = None,
        block_ms: int = 1000,
    ) -> None:
        self.redis = redis
        self.settings = settings or Settings()
        self.queue_max = queue_max or self.settings.hub_queue_max
        self.replay_max = self.settings.hub_replay_max
        self.tick_s = self.settings.hub_tick_ms / 1000
        self.heartbeat_s = self.settings.hub_heartbeat_s
        self.block_ms = block_ms
        self.subscribers: set[Subscriber] = set()
        self.position = "0-0"
        self.coalescer = Coalescer(merge=self.tick_s > 0)
        self._ready = asyncio.Event()

    def new_subscriber(self) -> Subscriber:
        sub = Subscriber(self.queue_max)
        self.subscribers.add(sub)
        return sub

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    # -- the reader ---------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        timers = [asyncio.create_task(self._heartbeat(stop), name="hub-heartbeat")]
        if self.tick_s > 0:
            timers.append(asyncio.create_task(self._tick(stop), name="hub-tick"))
        try:
            while not stop.is_set():
                try:
                    await self._follow(stop)
                except (RedisError, OSError) as err:
                    log.warning("hub: events stream unreadable (%s); retrying in 1 s", err)
                    await asyncio.sleep(1.0)
        finally:
            for timer in timers:
                timer.cancel()

    async def _follow(self, stop: asyncio.Event) -> None:
        if not self._ready.is_set():
            last: Any = await self.redis.xrevrange(bus.EVENTS_STREAM, count=1)
            self.position = last[0][0].decode() if last else "0-0"
            self._ready.set()
        while not stop.is_set():
            response: Any = await self.redis.xread(
                {bus.EVENTS_STREAM: self.position}, count=1000, block=self.block_ms
            )
            for _stream, entries in response or []:
                for entry_id, fields in entries:
                    cursor, event = decode_entry(entry_id, fields)
                    self.position = cursor
                    self._dispatch(self.coalescer.add(cursor, event))

    async def _tick(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.tick_s)
            self._dispatch(self.coalescer.flush())

    async def _heartbeat(self, stop: asyncio.Event) -> None:
        """One ping frame to every client each heartbeat, even while events flow, so a client that
        only listens still has something to answer (one timer for all, not one per client)."""
        while not stop.is_set():
            await asyncio.sleep(self.heartbeat_s)
            for sub in self.subscribers:
                sub.push(PING_FRAME)

    def _dispatch(self, units: list[Unit]) -> None:
        # No await in here: the set cannot change under the loop, and no client can hold it up.
        for unit in units:
            for sub in self.subscribers:
                sub.offer(unit)

    # -- subscriptions ------------------------------------------------------------------------------
    async def subscribe(
        self, sub: Subscriber, topics: Iterable[str], since: str | None, *, resync: str | None = None
    ) -> None:
        """Start (or restart) a subscription: a replay after ``since`` or a snapshot, then live.

        ``resync`` forces a snapshot flagged as a resync with that reason (a RESYNC_REASONS key).
        """
        async with sub.lock:
            await self._ready.wait()
            sub.begin(topics)  # from here on, every unit the reader hands over is held
            reason = resync
            units: list[Unit] = []
            if since is not None and reason is None:
                units, reason = await self._replay_units(since)
            if since is None or reason is not None:
                snapshot = await self._snapshot()
                sub.cursor_key = bus.stream_id_tuple(snapshot.cursor)
                text = None
                if reason is not None:
                    WS_RESYNCS.labels(reason=reason).inc()
                    text = RESYNC_REASONS[reason]
                sub.push(control("snapshot", encode(snapshot_frame(snapshot, sub.topics, text))))
            else:
                assert since is not None
                sub.cursor_key = bus.stream_id_tuple(since)
                until = _cursor_text(units[-1].last_key) if units else since
                frame = {"type": "replay", "since": since, "until": until, "topics": sorted(sub.topics)}
                sub.push(control("replay", encode(frame)))
                for unit in units:
                    sub.deliver(unit)
            sub.go_live()

    async def _snapshot(self) -> Snapshot:
        return await read_snapshot(self.redis)

    async def _replay_units(self, since: str) -> tuple[list[Unit], str | None]:
        """The units after ``since`` from the stream, or why a snapshot must be sent instead."""
        try:
            since_key = bus.stream_id_tuple(since)
        except ValueError:
            return [], "malformed"
        coalescer = Coalescer(merge=self.tick_s > 0)
        units: list[Unit] = []
        cursor, read = since, 0
        while True:
            # The bounds and the batch in one MULTI: if the entry we continue from has been
            # trimmed, entries after it may have gone too, and a replay would have a hole.
            pipe = self.redis.pipeline(transaction=True)
            pipe.xrange(bus.EVENTS_STREAM, count=1)
            pipe.xrevrange(bus.EVENTS_STREAM, count=1)
            pipe.xrange(bus.EVENTS_STREAM, min=f"({cursor}", count=REPLAY_BATCH)
            oldest, newest, entries = await pipe.execute()
            if not newest:
                if since_key == NO_CURSOR:
                    return units, None
                return [], "stream_reset"
            if bus.stream_id_tuple(oldest[0][0].decode()) > bus.stream_id_tuple(cursor):
                return [], "too_old"
            if read == 0 and since_key > bus.stream_id_tuple(newest[0][0].decode()):
                return [], "stream_reset"
            for entry_id, fields in entries:
                cursor, event = decode_entry(entry_id, fields)
                units.extend(coalescer.add(cursor, event))
            read += len(entries)
            if read > self.replay_max or len(units) > self.queue_max // 2:
                return [], "too_many"
            if len(entries) < REPLAY_BATCH:
                break
        units.extend(coalescer.flush())
        return units, None


def _cursor_text(key: CursorKey) -> str:
    return f"{key[0]}-{key[1]}"
