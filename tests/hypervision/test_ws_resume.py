"""Gap-free resume on real Redis and real servers: replay after a drop, resync when too old, restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets

from hypervision import bus
from hypervision.models.user import Role
from hypervision.runtime import Runtime
from tests.hypervision.wskit import (
    connect,
    events,
    hub_server,
    metric,
    publish_alerts,
    recv_until,
    subscribe,
)


async def test_resume_after_a_drop_replays_exactly_what_was_missed(runtime: Runtime, make_token):
    token = make_token(Role.OPERATOR)
    async with hub_server(runtime) as url:
        ws = await connect(url, token)
        snapshot = await subscribe(ws, ["alerts"])
        assert snapshot["type"] == "snapshot" and snapshot["resync"] is False
        await publish_alerts(runtime, range(1, 4))
        first = await events(ws, 3)
        assert [f["data"]["n"] for f in first] == [1, 2, 3]
        await ws.close()

        missed = await publish_alerts(runtime, range(4, 7))  # while the screen is away
        ws = await connect(url, token)
        replay = await subscribe(ws, ["alerts"], since=first[-1]["cursor"])
        assert replay == {
            "type": "replay",
            "since": first[-1]["cursor"],
            "until": missed[-1],
            "topics": ["alerts"],
        }
        await publish_alerts(runtime, range(7, 9))  # live again
        again = await events(ws, 5)
        assert [f["data"]["n"] for f in again] == [4, 5, 6, 7, 8]
        assert [f["cursor"] for f in again[:3]] == missed
        await ws.close()


async def test_resume_while_events_keep_flowing_has_no_gap_and_no_duplicate(runtime: Runtime, make_token):
    """Reconnect ten times under a steady flow; what was received, end to end, is the stream."""
    token = make_token(Role.SCREEN)
    stop = asyncio.Event()

    async def flow() -> None:
        n = 0
        while not stop.is_set():
            await publish_alerts(runtime, range(n, n + 3))
            n += 3
            await asyncio.sleep(0.001)

    async def read_for(ws: websockets.ClientConnection, seconds: float) -> list[str]:
        got: list[str] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    frame = json.loads(await ws.recv())  # not wait_for: see wskit.recv
                    if frame["type"] == "event":
                        got.append(frame["cursor"])
        return got

    async with hub_server(runtime) as url:
        ws = await connect(url, token)
        snapshot = await subscribe(ws, ["alerts"])
        start = snapshot["cursor"]
        producer = asyncio.create_task(flow())
        received: list[str] = []
        try:
            for _ in range(10):
                received += await read_for(ws, 0.1)
                await ws.close()
                await asyncio.sleep(0.02)  # events go on piling up while the screen is away
                ws = await connect(url, token)
                replay = await subscribe(ws, ["alerts"], since=received[-1])
                assert replay["type"] == "replay", replay.get("reason")
            received += await read_for(ws, 0.1)
        finally:
            stop.set()
            await producer
        received += await read_for(ws, 0.3)  # the tail published before the producer stopped
        await ws.close()
    entries: Any = await runtime.redis.xrange(bus.EVENTS_STREAM, min=f"({start}", max=received[-1])
    in_stream = [entry_id.decode() for entry_id, _ in entries]
    assert len(received) > 500
    assert received == in_stream


async def test_a_cursor_older_than_the_retained_stream_gets_a_resync_snapshot(runtime: Runtime, make_token):
    token = make_token(Role.OPERATOR)
    cursors = await publish_alerts(runtime, range(10))
    await runtime.redis.xtrim(bus.EVENTS_STREAM, maxlen=3, approximate=False)
    before = metric("hypervision_ws_resyncs_total", reason="too_old")
    async with hub_server(runtime) as url:
        ws = await connect(url, token)
        snapshot = await subscribe(ws, ["alerts"], since=cursors[2])
        assert snapshot["type"] == "snapshot"
        assert snapshot["resync"] is True
        assert snapshot["reason"] == "cursor older than the retained events"
        assert snapshot["cursor"] == cursors[-1]
        await publish_alerts(runtime, range(10, 11))
        (live,) = await events(ws, 1)
        assert live["data"]["n"] == 10
        # A cursor still in the retained part replays as usual.
        await ws.close()
        ws = await connect(url, token)
        replay = await subscribe(ws, ["alerts"], since=cursors[7])
        assert replay["type"] == "replay"
        assert [f["data"]["n"] for f in await events(ws, 3)] == [8, 9, 10]
        await ws.close()
    assert metric("hypervision_ws_resyncs_total", reason="too_old") == before + 1


async def test_malformed_or_future_cursors_get_a_resync_snapshot(runtime: Runtime, make_token):
    token = make_token(Role.OPERATOR)
    cursors = await publish_alerts(runtime, range(2))
    async with hub_server(runtime) as url:
        ws = await connect(url, token)
        snapshot = await subscribe(ws, ["alerts"], since="yesterday")
        assert (snapshot["type"], snapshot["resync"], snapshot["reason"]) == (
            "snapshot",
            True,
            "malformed cursor",
        )
        ms = int(cursors[-1].split("-")[0])
        ahead = await subscribe(ws, ["alerts"], since=f"{ms + 3_600_000}-0")  # e.g. Redis was reset
        assert ahead["type"] == "snapshot" and ahead["resync"] is True
        assert ahead["cursor"] == cursors[-1]
        await ws.close()


async def test_a_server_restart_is_survived_by_resuming_on_the_new_server(runtime: Runtime, make_token):
    token = make_token(Role.SCREEN)
    async with hub_server(runtime, run_worker=True) as url:
        ws = await connect(url, token)
        await subscribe(ws, ["alerts", "picture"])
        await publish_alerts(runtime, range(3))
        seen = await events(ws, 3)
    # The first server is gone: the client is told, and events go on being written meanwhile.
    assert await _closed(ws) == 1012  # "service restart": reconnect, to any hub, with `since`
    missed = await publish_alerts(runtime, range(3, 6))
    async with hub_server(runtime, run_worker=True) as url:
        ws = await connect(url, token)
        replay = await subscribe(ws, ["alerts", "picture"], since=seen[-1]["cursor"])
        assert replay["type"] == "replay" and replay["until"] == missed[-1]
        assert [f["cursor"] for f in await events(ws, 3)] == missed
        await ws.close()


async def test_pings_come_on_schedule_and_a_silent_client_is_closed(runtime: Runtime, make_token):
    token = make_token(Role.SCREEN)
    closed_silent = metric("hypervision_ws_closes_total", code="4408")
    pings_sent = metric("hypervision_ws_frames_sent_total", type="ping")
    async with hub_server(runtime, hub_heartbeat_s=0.2, hub_client_timeout_s=0.8) as url:
        # One that answers every ping stays connected well past the timeout.
        chatty = await connect(url, token)
        await subscribe(chatty, ["alerts"])
        # websockets answers protocol pings by itself, so this one sends no application frame.
        silent = await connect(url, token)
        deadline = asyncio.get_running_loop().time() + 1.6
        pings = 0
        while asyncio.get_running_loop().time() < deadline:
            await recv_until(chatty, "ping", timeout=1)
            pings += 1
            await chatty.send('{"type": "pong"}')
        assert pings >= 5
        assert await _closed(silent) == 4408
        assert silent.close_reason is not None and "no frame from the client" in silent.close_reason
        await chatty.send('{"type": "ping", "id": 7}')
        assert await recv_until(chatty, "pong") == {"type": "pong", "id": 7}
        await chatty.close()
    assert metric("hypervision_ws_closes_total", code="4408") == closed_silent + 1
    assert metric("hypervision_ws_frames_sent_total", type="ping") >= pings_sent + pings


async def _closed(ws: websockets.ClientConnection) -> int | None:
    """Read until the connection is closed; the close code the server sent."""
    try:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else 1006
    return None
