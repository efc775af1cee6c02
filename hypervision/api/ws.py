"""``/ws``: authenticate (``?token=`` or a first auth frame), check the role, then run the session."""

from __future__ import annotations

import asyncio
import logging

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlmodel import Session

from hypervision.auth import Principal, TokenRefusal, authenticate
from hypervision.hub import Hub
from hypervision.models.user import Role
from hypervision.runtime import Runtime
from hypervision.ws_protocol import CLOSE_AUTH_REQUIRED, CLOSE_FORBIDDEN, CLOSE_TIMEOUT
from hypervision.ws_session import ClientSession

log = logging.getLogger(__name__)

router = APIRouter()


def allowed_topic(principal: Principal, topic: str) -> bool:
    """Team members follow the common picture, alerts, sources and their own teams' tasks only."""
    root, _, rest = topic.partition(":")
    if principal.role == Role.INGEST:
        return False
    if principal.role == Role.TEAM:
        return (root == "tasks" and rest in principal.teams) or root in ("picture", "alerts", "sources")
    return True


async def _authenticate(runtime: Runtime, token: str) -> Principal | TokenRefusal:
    def check() -> Principal | TokenRefusal:
        with Session(runtime.db) as session:
            return authenticate(session, token, secret=runtime.secret, now=runtime.clock())

    return await asyncio.to_thread(check)


async def _token_from_first_frame(websocket: WebSocket, timeout_s: float) -> str | None:
    """The token of a first ``{"type": "auth", "token": ...}`` frame; TimeoutError when none came."""
    async with asyncio.timeout(timeout_s):
        message = await websocket.receive()
    raw = message.get("text") or message.get("bytes")
    if message["type"] != "websocket.receive" or not raw:
        return None
    try:
        first = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(first, dict) and first.get("type") == "auth" and isinstance(first.get("token"), str):
        return str(first["token"])
    return None


@router.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    hub: Hub = websocket.app.state.hub
    # Accept first: a close before the handshake is an HTTP 403, and the client would never see
    # the code and reason that say what is wrong.
    await websocket.accept()
    token = websocket.query_params.get("token")
    if not token:
        timeout_s = hub.settings.hub_auth_timeout_s
        try:
            token = await _token_from_first_frame(websocket, timeout_s)
        except TimeoutError:
            await websocket.close(CLOSE_TIMEOUT, f"no auth frame within {timeout_s:g} s")
            return
        except (WebSocketDisconnect, RuntimeError):
            return
    if not token:
        await websocket.close(CLOSE_AUTH_REQUIRED, 'authentication required: ?token= or {"type": "auth"}')
        return
    principal = await _authenticate(runtime, token)
    if isinstance(principal, TokenRefusal):
        await websocket.close(CLOSE_AUTH_REQUIRED, f"invalid token: {principal}")
        return
    if principal.role == Role.INGEST:
        await websocket.close(CLOSE_FORBIDDEN, "an ingest key cannot open the screen feed")
        return

    held_token: str = token

    async def reauthenticate() -> Principal | TokenRefusal:
        return await _authenticate(runtime, held_token)

    session = ClientSession(hub, websocket, principal, reauthenticate=reauthenticate, allowed=allowed_topic)
    await session.run()
