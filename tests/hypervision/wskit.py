"""Helpers for the /ws tests: a frame-level client, app instances with hub settings, event publishing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from prometheus_client import REGISTRY
from websockets.asyncio.client import ClientConnection

from hypervision import bus
from hypervision.events import Event, Publication, publish
from hypervision.runtime import Runtime
from tests.support import start_server, stop_server

Frame = dict[str, Any]


@asynccontextmanager
async def hub_server(runtime: Runtime, *, run_worker: bool = False, **hub: Any) -> AsyncIterator[str]:
    """An app instance on its own port with hub settings overridden; yields its ws:// URL."""
    settings = runtime.settings.model_copy(update=hub)
    server, task, host = await start_server(runtime, run_worker=run_worker, settings=settings)
    try:
        yield f"ws://{host}/ws"
    finally:
        await stop_server(server, task)


async def recv(ws: ClientConnection, timeout: float = 5.0) -> Frame:
    # Loops below use asyncio.timeout around ws.recv() rather than this: on Python 3.11 a
    # wait_for inside a timeout can swallow the outer cancellation.
    async with asyncio.timeout(timeout):
        return dict(json.loads(await ws.recv()))


async def recv_until(ws: ClientConnection, kind: str, timeout: float = 5.0) -> Frame:
    """The next frame of type ``kind``, skipping pings."""
    async with asyncio.timeout(timeout):
        while True:
            frame = dict(json.loads(await ws.recv()))
            if frame["type"] == kind:
                return frame
            assert frame["type"] in ("ping", "pong"), f"expected {kind}, got {frame}"


async def connect(url: str, token: str, **kwargs: Any) -> ClientConnection:
    ws = await websockets.connect(f"{url}?token={token}", **kwargs)
    hello = await recv(ws)
    assert hello["type"] == "hello", hello
    return ws


async def subscribe(ws: ClientConnection, topics: list[str], since: str | None = None) -> Frame:
    """Subscribe and return the first answer (a snapshot or a replay frame)."""
    frame: Frame = {"type": "subscribe", "topics": topics}
    if since is not None:
        frame["since"] = since
    await ws.send(json.dumps(frame))
    async with asyncio.timeout(5):
        while True:
            answer = dict(json.loads(await ws.recv()))
            if answer["type"] in ("snapshot", "replay", "error"):
                return answer


async def events(ws: ClientConnection, count: int, timeout: float = 10.0) -> list[Frame]:
    """The next ``count`` event frames (pings skipped)."""
    got: list[Frame] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            frame = dict(json.loads(await ws.recv()))
            if frame["type"] == "event":
                got.append(frame)
            else:
                assert frame["type"] in ("ping", "pong"), frame
    return got


async def publish_alerts(runtime: Runtime, numbers: range, *, pad: str = "") -> list[str]:
    """One ``alert.changed`` per number (``data.n``); returns their cursors."""
    publication = Publication(
        events=[
            Event("alert.changed", "alerts", {"id": n, "n": n, "state": "firing", "pad": pad})
            for n in numbers
        ]
    )
    return await publish(runtime.redis, publication, events_maxlen=runtime.settings.events_maxlen)


async def publish_delta(runtime: Runtime, domain: str, values: dict[str, float]) -> str:
    """One ``picture.delta`` with a reading per ``source -> value``; returns its cursor."""
    readings = [
        {"key": f"{source}|pm10", "source": source, "metric": "pm10", "domain": domain, "value": value}
        for source, value in values.items()
    ]
    event = Event("picture.delta", f"picture:{domain}", {"readings": readings})
    (cursor,) = await publish(runtime.redis, Publication(events=[event]), events_maxlen=100_000)
    return cursor


def key(cursor: str) -> tuple[int, int]:
    return bus.stream_id_tuple(cursor)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
