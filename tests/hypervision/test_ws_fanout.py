"""Fan-out under load on real servers: a slow client does not hold up a fast one; two hubs agree."""

from __future__ import annotations

import asyncio
import json
import os
import random
from typing import Any

import httpx
import websockets

from hypervision import bus
from hypervision.models.user import Role
from hypervision.runtime import Runtime
from tests.hypervision.wskit import connect, hub_server, key, metric, publish_alerts, publish_delta, subscribe
from tests.support import eventually, reading


async def test_a_slow_client_does_not_delay_a_fast_one_and_is_resynced(runtime: Runtime, make_token):
    token = make_token(Role.SCREEN)
    pad = os.urandom(24_000).hex()  # 48 kB a frame, incompressible: the slow socket fills quickly
    overflows = metric("hypervision_ws_queue_overflows_total")
    async with hub_server(runtime, hub_queue_max=20, hub_tick_ms=0) as url:
        # The slow one never reads: its client stops taking data off the socket after 4 frames.
        slow = await connect(url, token, compression=None, max_queue=4)
        await subscribe(slow, ["alerts"])
        fast = await connect(url, token, compression=None, max_size=None)
        await subscribe(fast, ["alerts"])

        got: list[dict[str, Any]] = []

        async def read_fast() -> float:
            async with asyncio.timeout(20):
                while len(got) < 300:
                    frame = json.loads(await fast.recv())
                    if frame["type"] == "event":
                        got.append(frame)
            return asyncio.get_running_loop().time()

        reader = asyncio.create_task(read_fast())
        for start in range(0, 300, 10):
            await publish_alerts(runtime, range(start, start + 10), pad=pad)
        published = asyncio.get_running_loop().time()
        done = await reader
        assert [f["data"]["n"] for f in got] == list(range(300))
        # Were the fast client's frames queued behind the slow one, it would wait for ever (20 s here).
        assert done - published < 5.0, f"the fast client got the last event {done - published:.2f} s late"
        assert metric("hypervision_ws_queue_overflows_total") > overflows

        # Once the slow one reads again, it is told to start over: a resync snapshot (or, having
        # overflowed past the limit, a 4429 close).
        seen: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(10):
                while not (seen and seen[-1]["type"] == "snapshot"):
                    seen.append(json.loads(await slow.recv()))
            assert seen[-1]["resync"] is True and seen[-1]["reason"].startswith("send queue overflow")
            events = [f["data"]["n"] for f in seen if f["type"] == "event"]
            assert events == list(range(len(events)))  # what it did get, it got in order
            await slow.close()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4429
        await fast.close()


async def test_two_hubs_on_one_redis_show_the_same_ordered_events(runtime: Runtime, make_token):
    token = make_token(Role.OPERATOR)
    feeder = make_token(Role.ADMIN)
    rng = random.Random(7)
    async with (
        hub_server(runtime, run_worker=True) as url_a,
        hub_server(runtime, run_worker=False) as url_b,
    ):
        clients = [await connect(url_a, token), await connect(url_b, token)]
        for ws in clients:
            await subscribe(ws, ["picture", "alerts"])
        # Readings through the second instance's API (the worker runs behind the first) ...
        http_url = url_b.replace("ws://", "http://").removesuffix("/ws")
        async with httpx.AsyncClient(
            base_url=http_url, headers={"authorization": f"Bearer {feeder}"}
        ) as http:
            response = await http.post("/api/ingest/readings", json=[reading(metric="no2", value=450.0)])
            assert response.status_code == 202
        # ... and a burst of deltas and alerts written straight to the stream.
        for n in range(60):
            await publish_delta(runtime, rng.choice(["air", "water"]), {f"s{rng.randrange(8)}": float(n)})
            if n % 7 == 0:
                await publish_alerts(runtime, range(n, n + 1))
        await eventually(lambda: runtime.redis.hlen(bus.OPEN_ALERTS_KEY))  # the worker's alert is out
        (end,) = await publish_alerts(runtime, range(1000, 1001))
        views = await asyncio.gather(*(_watch_until(ws, end) for ws in clients))
        for ws in clients:
            await ws.close()
    first, second = views
    assert first == second
    alerts = [a for a, _picture in first]
    assert [a["n"] for a in alerts if "n" in a][-1] == 1000
    assert any(a.get("rule_id") == "air.no2.hourly" for a in alerts)


async def _watch_until(
    ws: websockets.ClientConnection, end: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """At each alert frame: the alert and the picture as the client holds it at that point.

    Coalescing may group deltas differently on each hub, but the picture a client holds when an
    alert arrives must be the same, since the pending deltas are always sent before the alert.
    """
    picture: dict[str, Any] = {}
    seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
    last = (0, 0)
    async with asyncio.timeout(15):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] != "event":
                continue
            assert key(frame["cursor"]) > last, "cursors must increase"
            last = key(frame["cursor"])
            if frame["event"] == "picture.delta":
                picture.update({r["key"]: r["value"] for r in frame["data"]["readings"]})
            elif frame["event"] == "alert.changed":
                seen.append((frame["data"], dict(picture)))
            if frame["cursor"] == end:
                return seen
