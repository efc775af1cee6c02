"""``/ws``: authenticate, subscribe to topics, then receive a snapshot or a replay and live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session
from starlette.websockets import WebSocketState

from hypervision import metrics
from hypervision.auth import Principal, authenticate
from hypervision.hub import TOPIC_ROOTS, Hub, Subscriber
from hypervision.models.user import Role
from hypervision.runtime import Runtime

log = logging.getLogger(__name__)

router = APIRouter()

# Close codes (docs/ws-protocol.md)
CLOSE_AUTH_REQUIRED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_FRAME = 4400
CLOSE_TIMEOUT = 4408
CLOSE_TOO_SLOW = 4429
AUTH_TIMEOUT_S = 10.0


def allowed_topic(principal: Principal, topic: str) -> bool:
    root, _, rest = topic.partition(":")
    if root not in TOPIC_ROOTS:
        return False
    if principal.role == Role.INGEST:
        return False
    if principal.role == Role.TEAM:
        # A team member follows their own teams' tasks and the common picture, nothing else.
        return (root == "tasks" and rest in principal.teams) or root in ("picture", "alerts", "sources")
    return True


async def _authenticate(runtime: Runtime, token: str) -> Principal | None:
    def check() -> Principal | None:
        with Session(runtime.db) as session:
            return authenticate(session, token, secret=runtime.secret, now=runtime.clock())

    return await asyncio.to_thread(check)


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    token = websocket.query_params.get("token")
    if not token:
        try:
            first = orjson.loads(await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S))
            token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
        except (TimeoutError, orjson.JSONDecodeError, WebSocketDisconnect):
            token = None
    if not token:
        await websocket.close(CLOSE_AUTH_REQUIRED, "authentication required: ?token= or an auth frame")
        return
    principal = await _authenticate(runtime, token)
    if principal is None:
        await websocket.close(CLOSE_AUTH_REQUIRED, "token unknown, expired or revoked")
        return
    if principal.role == Role.INGEST:
        await websocket.close(CLOSE_FORBIDDEN, "an ingest key cannot open the screen feed")
        return
    await Session_(runtime, hub, websocket, principal).run()


class Session_:
    """One connected client: a reader of its frames and a writer draining its queue."""

    def __init__(self, runtime: Runtime, hub: Hub, websocket: WebSocket, principal: Principal) -> None:
        self.runtime = runtime
        self.hub = hub
        self.ws = websocket
        self.principal = principal
        self.sub: Subscriber = hub.new_subscriber()
        self.heartbeat_s = runtime.settings.hub_heartbeat_s
        self.timeout_s = runtime.settings.hub_client_timeout_s

    async def run(self) -> None:
        metrics.WS_CLIENTS.inc()
        await self.ws.send_json(
            {
                "type": "hello",
                "role": self.principal.role.value,
                "name": self.principal.name,
                "heartbeat_s": self.heartbeat_s,
            }
        )
        writer = asyncio.create_task(self._write())
        try:
            await self._read()
        finally:
            self.hub.remove(self.sub)
            metrics.WS_CLIENTS.dec()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def _read(self) -> None:
        while True:
            try:
                text = await asyncio.wait_for(self.ws.receive_text(), self.timeout_s)
            except TimeoutError:
                await self._close(CLOSE_TIMEOUT, f"no frame from the client for {self.timeout_s:.0f} s")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            try:
                frame = orjson.loads(text)
            except orjson.JSONDecodeError:
                await self._send_error("frames must be JSON objects")
                continue
            if not isinstance(frame, dict):
                await self._send_error("frames must be JSON objects")
                continue
            await self._on_frame(frame)

    async def _on_frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ping":
            self.sub.push({"type": "pong"})
        elif kind in ("pong", "auth"):
            return
        elif kind == "subscribe":
            topics = frame.get("topics")
            since = frame.get("since")
            if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
                await self._send_error("subscribe needs a non-empty list of topics")
                return
            if since is not None and not isinstance(since, str):
                await self._send_error("since must be a cursor string")
                return
            refused = [t for t in topics if not allowed_topic(self.principal, t)]
            if refused:
                await self._send_error(f"topics not allowed for role {self.principal.role.value}: {refused}")
                return
            await self.hub.subscribe(self.sub, topics, since)
        else:
            await self._send_error(f"unknown frame type {kind!r}")

    async def _write(self) -> None:
        queue = self.sub.queue
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), self.heartbeat_s)
            except TimeoutError:
                frame = {"type": "ping"}
            if self.sub.overflowed:
                await self._close(CLOSE_TOO_SLOW, "client too slow: reconnect with your last cursor")
                return
            if frame is None:
                return
            await self.ws.send_text(orjson.dumps(frame).decode())

    async def _send_error(self, reason: str) -> None:
        self.sub.push({"type": "error", "reason": reason})

    async def _close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError):
                await self.ws.close(code, reason)
