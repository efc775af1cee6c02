"""Stop and restart Redis under a running app: 503 meanwhile, nothing lost, screens resume with no gap."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from websockets.asyncio.client import ClientConnection

from adapters.source import SourceConfig
from hypervision import bus
from hypervision.api.outage import BUS_UNAVAILABLE
from hypervision.config import Settings
from hypervision.coordinator import Coordinator, bus_sinks
from hypervision.embedded_redis import EmbeddedRedis, free_port
from hypervision.models.user import Role
from hypervision.runtime import Runtime
from tests.faults.faultkit import rules_file
from tests.support import LiveServer, eventually, reading

pytestmark = pytest.mark.fault


@pytest.fixture
def aof_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, on a fixed port, persisting to an AOF it replays on restart."""
    server = EmbeddedRedis(tmp_path / "aof-redis", port=free_port(), persist=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(aof_redis: EmbeddedRedis) -> str:
    return aof_redis.url


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(update={"rules_files": [rules_file(tmp_path)]})


def _alerting(n: int, first: int) -> list[dict[str, Any]]:
    """Readings from ``n`` new stations over the threshold: one alert.changed event each."""
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    return [
        reading(source=f"air:station:R{i:03d}", metric="no2", unit="µg/m³", value=450.0,
                observed_at=(t0 + timedelta(seconds=i)).isoformat())
        for i in range(first, first + n)
    ]  # fmt: skip


async def _subscribe(url: str, token: str, since: str | None) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await websockets.connect(f"{url}?token={token}")
    frame: dict[str, Any] = {"type": "subscribe", "topics": ["alerts"]}
    if since is not None:
        frame["since"] = since
    async with asyncio.timeout(10):
        assert json.loads(await ws.recv())["type"] == "hello"
        await ws.send(json.dumps(frame))
        while True:
            answer = json.loads(await ws.recv())
            if answer["type"] in ("snapshot", "replay", "error"):
                return ws, answer


async def _alert_events(ws: ClientConnection, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            frame = json.loads(await ws.recv())
            if frame["type"] == "event":
                got.append(frame)
            else:
                assert frame["type"] in ("ping", "pong"), frame
    return got


async def test_redis_restart_answers_503_then_resumes_with_no_gap(
    live: LiveServer, make_token, aof_redis: EmbeddedRedis
):
    ingest = make_token(Role.INGEST)
    screen = make_token(Role.SCREEN)
    ws, snapshot = await _subscribe(live.ws_url, screen, None)
    async with live.client(ingest) as http:
        assert (await http.post("/api/ingest/readings", json=_alerting(3, 0))).status_code == 202
        before = await _alert_events(ws, 3)
        cursor = before[-1]["cursor"]
        # Accepted while Redis is up, handled by the worker only after the restart (AOF keeps them).
        await live.runtime.redis.set("hv:test:marker", "1")

        aof_redis.stop()
        down = await http.post("/api/ingest/readings", json=_alerting(2, 100))
        assert down.status_code == 503, down.text
        assert down.json() == {"detail": BUS_UNAVAILABLE}
        assert int(down.headers["retry-after"]) > 0
        async with live.client(screen) as reader:
            picture = await reader.get("/api/picture")
        assert picture.status_code == 503 and picture.json()["detail"] == BUS_UNAVAILABLE
        await ws.close()  # the screen lost its feed: it will reconnect with its cursor

        aof_redis.start()
        assert await eventually(lambda: _get(live, "hv:test:marker")) == b"1", "the AOF was not replayed"
        accepted = await eventually(lambda: _post(http, _alerting(4, 3)), timeout=20)
        assert accepted == 202

    ws, answer = await _subscribe(live.ws_url, screen, cursor)
    try:
        assert answer["type"] == "replay", answer  # not a resync snapshot: the cursor is still known
        after = await _alert_events(ws, 4)
    finally:
        await ws.close()
    sources = [e["data"]["source"] for e in before + after]
    assert sources == [f"air:station:R{i:03d}" for i in range(7)], "a gap or a duplicate on the screen"
    cursors = [bus.stream_id_tuple(e["cursor"]) for e in before + after]
    assert cursors == sorted(set(cursors))
    fresh = Redis.from_url(aof_redis.url)  # the app's pool may still hold connections the restart closed
    try:
        stream = await fresh.xrange(bus.EVENTS_STREAM, min=f"({cursor}")
    finally:
        await fresh.aclose()
    alert_ids = [i.decode() for i, f in stream if f[b"type"] == b"alert.changed"]
    assert alert_ids == [e["cursor"] for e in after], "the screen missed an event of the stream"
    assert not snapshot.get("resync")


async def _post(http: Any, items: list[dict[str, Any]]) -> int | None:
    resp = await http.post("/api/ingest/readings", json=items)
    return resp.status_code if resp.status_code != 503 else None


async def _get(live: LiveServer, key: str) -> bytes | None:
    """A key once the client's pooled connections, closed by the restart, have been replaced."""
    try:
        return await live.runtime.redis.get(key)  # type: ignore[no-any-return]
    except RedisConnectionError:
        return None


TALQ = (Path(__file__).parents[1] / "fixtures" / "lighting" / "talq_logreport_gateway.json").read_bytes()


async def test_a_poller_keeps_what_it_fetched_during_an_outage_for_its_next_poll(
    runtime: Runtime, aof_redis: EmbeddedRedis, caplog: pytest.LogCaptureFixture
):
    """A poll that cannot reach the bus keeps what it fetched and says so (a warning and the source's
    health); the next poll after the restart publishes it, even if the source is down by then."""
    source = SourceConfig(
        id="light:talq", kind="talq", url="http://gw.test/log", interval_s=60, zone="centre", retries=0
    )
    served = 0

    def gateway(_: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1  # answers twice (before and during the outage), then goes down itself
        return httpx.Response(200, content=TALQ) if served <= 2 else httpx.Response(503)

    client = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    publish, dead_letter, on_health = bus_sinks(runtime.redis, runtime.settings, runtime.clock)
    coordinator = Coordinator(
        [source],
        client=client,
        publish=publish,
        dead_letter=dead_letter,
        on_health=on_health,
        clock=runtime.clock,
    )
    await coordinator.poll(source.id)
    before = await _appended(runtime)
    assert before > 0

    aof_redis.stop()
    health = await coordinator.poll(source.id)  # does not raise: the bus, not the source, failed
    assert health.last_error is not None and health.last_error.startswith("bus unavailable (ConnectionError")
    assert health.consecutive_failures == 0
    warned = [
        r
        for r in caplog.records
        if "light:talq" in r.getMessage() and "kept for the next poll" in r.getMessage()
    ]
    assert warned and warned[0].levelname == "WARNING", "the outage was not logged as a warning"
    aof_redis.start()

    async def delivered() -> bool:
        await coordinator.poll(source.id)
        return await _appended(runtime) == 2 * before

    await eventually(delivered, timeout=20)
    assert served >= 3, "the source was not polled again after the restart"
    assert coordinator.health()[0].consecutive_failures >= 1  # the gateway itself is down now
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    await client.aclose()


async def _appended(runtime: Runtime) -> int:
    fresh = Redis.from_url(runtime.settings.redis_url or "")
    try:
        return sum(
            [int(await fresh.xlen(bus.readings_stream(s))) for s in range(runtime.settings.reading_shards)]
        )
    finally:
        await fresh.aclose()
