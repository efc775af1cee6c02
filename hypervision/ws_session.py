"""One /ws client after authentication: a reader of its frames, a writer of its queue, heartbeats.

The reader answers pings, handles subscriptions and closes a client silent past the timeout; the
writer drains the client's bounded queue (so only this client waits on its own socket), including
the hub's scheduled pings, and resyncs the client from a snapshot after an overflow, up to a limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from hypervision import metrics
from hypervision.auth import Principal, TokenRefusal
from hypervision.coalesce import Frame, control
from hypervision.hub import Hub
from hypervision.picture import stale_after_seconds
from hypervision.stopping import stop_tasks
from hypervision.ws_protocol import (
    CLOSE_AUTH_REQUIRED,
    CLOSE_TIMEOUT,
    CLOSE_TOO_SLOW,
    PROTOCOL_VERSION,
    encode,
    error_frame,
    valid_topic,
)

log = logging.getLogger(__name__)

WS_FRAMES_SENT = Counter("hypervision_ws_frames_sent_total", "Frames written to WebSocket clients", ["type"])
WS_CLOSES = Counter("hypervision_ws_closes_total", "Connections the server closed, by close code", ["code"])
WS_DELIVERY = Histogram(
    "hypervision_ws_delivery_seconds",
    "From an event's append to hv:events (its cursor) to its frame written to a client",
    buckets=metrics.LATENCY_BUCKETS,
)
_SENT = {
    kind: WS_FRAMES_SENT.labels(type=kind)
    for kind in ("hello", "snapshot", "replay", "event", "ping", "pong", "error")
}
RESYNC_WINDOW_S = 60.0

Authenticate = Callable[[], Awaitable[Principal | TokenRefusal]]
TopicCheck = Callable[[Principal, str], bool]


class ClientSession:
    """A connected, authenticated client; ``run`` returns when the connection is over."""

    def __init__(
        self,
        hub: Hub,
        websocket: WebSocket,
        principal: Principal,
        *,
        reauthenticate: Authenticate,
        allowed: TopicCheck,
    ) -> None:
        settings = hub.settings
        self.hub = hub
        self.ws = websocket
        self.principal = principal
        self.reauthenticate = reauthenticate
        self.allowed = allowed
        self.sub = hub.new_subscriber()
        self.heartbeat_s = settings.hub_heartbeat_s
        self.timeout_s = settings.hub_client_timeout_s
        self.recheck_s = settings.hub_token_recheck_s
        self.max_resyncs = settings.hub_max_resyncs
        self.resyncs: deque[float] = deque()

    async def run(self) -> None:
        metrics.WS_CLIENTS.inc()
        hello = {
            "type": "hello",
            "protocol": PROTOCOL_VERSION,
            "role": self.principal.role.value,
            "name": self.principal.name,
            "heartbeat_s": self.heartbeat_s,
            "timeout_s": self.timeout_s,
            "tick_ms": self.hub.settings.hub_tick_ms,
            "stale_after_s": stale_after_seconds(),
        }
        self.sub.push(control("hello", encode(hello)))
        tasks = [
            asyncio.create_task(self._read(), name="ws-read"),
            asyncio.create_task(self._write(), name="ws-write"),
            asyncio.create_task(self._watch_token(), name="ws-token"),
        ]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hub.remove(self.sub)
            metrics.WS_CLIENTS.dec()
            await stop_tasks(tasks)

    # -- from the client ----------------------------------------------------------------------------
    async def _read(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.timeout_s):
                    message = await self.ws.receive()
            except TimeoutError:
                await self.close(CLOSE_TIMEOUT, f"no frame from the client for {self.timeout_s:g} s")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or message.get("bytes") or b""
            try:
                frame = orjson.loads(raw)
            except orjson.JSONDecodeError:
                frame = None
            if not isinstance(frame, dict):
                self._error("bad_frame", "frames must be JSON objects")
                continue
            await self._on_frame(frame)

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ping":
            pong: dict[str, Any] = {"type": "pong"}
            if "id" in frame:
                pong["id"] = frame["id"]
            self.sub.push(control("pong", encode(pong)))
        elif kind in ("pong", "auth"):
            return  # any frame counts as a sign of life; the reader's timeout has been reset
        elif kind == "subscribe":
            await self._subscribe(frame)
        else:
            self._error("unknown_type", f"unknown frame type {kind!r}")

    async def _subscribe(self, frame: dict[str, Any]) -> None:
        topics, since = frame.get("topics"), frame.get("since")
        if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
            self._error("bad_subscribe", "subscribe needs a non-empty list of topic strings")
            return
        if since is not None and not isinstance(since, str):
            self._error("bad_subscribe", "since must be a cursor string such as '1732950000000-0'")
            return
        unknown = [t for t in topics if not valid_topic(t)]
        if unknown:
            self._error("unknown_topic", f"unknown topics: {unknown}")
            return
        refused = [t for t in topics if not self.allowed(self.principal, t)]
        if refused:
            self._error("forbidden_topic", f"topics not allowed for this account: {refused}")
            return
        await self.hub.subscribe(self.sub, topics, since)

    def _error(self, code: str, reason: str) -> None:
        self.sub.push(control("error", encode(error_frame(code, reason))))

    # -- to the client ------------------------------------------------------------------------------
    async def _write(self) -> None:
        sub = self.sub
        try:
            while True:
                if sub.needs_resync:
                    if not self._may_resync():
                        await self.close(CLOSE_TOO_SLOW, "client too slow: reconnect with your last cursor")
                        return
                    await self.hub.subscribe(sub, sub.topics, None, resync="overflow")
                    continue
                if not sub.frames:
                    # No timer here: the hub's heartbeat pushes pings, so a wake-up costs only this.
                    sub.wake.clear()
                    await sub.wake.wait()
                    continue
                frame = sub.frames.popleft()
                await self.ws.send_text(frame.text)
                _SENT[frame.kind].inc()
                if frame.appended_s is not None:
                    _observe(frame)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return

    def _may_resync(self) -> bool:
        now = time.monotonic()
        while self.resyncs and now - self.resyncs[0] > RESYNC_WINDOW_S:
            self.resyncs.popleft()
        self.resyncs.append(now)
        return len(self.resyncs) <= self.max_resyncs

    async def _watch_token(self) -> None:
        """Close the connection once its token is revoked or expires (checked every recheck_s)."""
        while True:
            await asyncio.sleep(self.recheck_s)
            check = await self.reauthenticate()
            if isinstance(check, TokenRefusal):
                await self.close(CLOSE_AUTH_REQUIRED, str(check))
                return

    async def close(self, code: int, reason: str) -> None:
        WS_CLOSES.labels(code=str(code)).inc()
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
                await self.ws.close(code, reason)


def _observe(frame: Frame) -> None:
    now = time.time()
    WS_DELIVERY.observe(max(0.0, now - (frame.appended_s or now)))
    if frame.received_s is not None:
        metrics.READING_TO_SCREEN.observe(max(0.0, now - frame.received_s))
