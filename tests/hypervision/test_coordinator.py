"""The feed coordinator: polls, retries with backoff, dead-letters, health, staleness, log-once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from adapters import sivic
from adapters.simulator.feeds import demo_sources, render_feeds
from adapters.source import SourceConfig
from hypervision import bus
from hypervision.api import sources as sources_api
from hypervision.api.deps import get_principal
from hypervision.auth import Principal
from hypervision.coordinator import Coordinator, SourceHealth, bus_sinks
from hypervision.domain import Reading
from hypervision.models.user import Role, TokenKind
from tests.support import FakeClock

FIXTURES = Path(__file__).parents[1] / "fixtures"
TALQ = (FIXTURES / "lighting" / "talq_logreport_gateway.json").read_bytes()
SOURCE = SourceConfig(
    id="light:talq",
    kind="talq",
    url="http://gw.test/log",
    interval_s=60,
    retries=2,
    timeout_s=0.2,
    zone="centre",
)


class Sinks:
    """What the coordinator hands to the bus, recorded."""

    def __init__(self) -> None:
        self.published: list[list[Reading]] = []
        self.dead: list[tuple[str, str, bytes]] = []
        self.health: list[SourceHealth] = []
        self.sleeps: list[float] = []

    async def publish(self, readings: list[Reading]) -> None:
        self.published.append(readings)

    async def dead_letter(self, source: str, reason: str, raw: bytes) -> None:
        self.dead.append((source, reason, raw))

    async def on_health(self, health: SourceHealth, changed: bool) -> None:
        if changed:
            self.health.append(health)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def make(
    handler: Callable[[httpx.Request], Any], *sources: SourceConfig
) -> tuple[Coordinator, Sinks, FakeClock]:
    sinks, clock = Sinks(), FakeClock(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    coordinator = Coordinator(
        sources or (SOURCE,),
        client=client,
        publish=sinks.publish,
        dead_letter=sinks.dead_letter,
        clock=clock,
        on_health=sinks.on_health,
        sleep=sinks.sleep,
    )
    return coordinator, sinks, clock


async def test_successful_poll_publishes_readings_and_records_health() -> None:
    coordinator, sinks, clock = make(lambda r: httpx.Response(200, content=TALQ))
    health = await coordinator.poll("light:talq")
    assert len(sinks.published) == 1 and len(sinks.published[0]) == 6
    assert {r.source for r in sinks.published[0]} >= {"light:talq/gw-dijon-07/lamp/0043/monitor"}
    assert {r.zone for r in sinks.published[0]} == {"centre"}
    assert (health.last_success, health.consecutive_failures, health.stale) == (clock.now, 0, False)
    assert (health.readings_total, health.polls_total, health.errors_total) == (6, 1, 0)
    assert health.newest_observed_at == datetime(2026, 11, 30, 16, 46, 12, tzinfo=UTC)
    assert sinks.dead == []


async def test_server_errors_are_retried_with_exponential_backoff() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503) if len(calls) < 3 else httpx.Response(200, content=TALQ)

    coordinator, sinks, _ = make(flaky)
    health = await coordinator.poll("light:talq")
    assert len(calls) == 3
    assert len(sinks.sleeps) == 2
    assert 1.0 <= sinks.sleeps[0] <= 1.1 and 2.0 <= sinks.sleeps[1] <= 2.2  # base 1 s, doubled, ≤10 % jitter
    assert health.consecutive_failures == 0 and len(sinks.published) == 1


async def test_client_errors_are_not_retried() -> None:
    calls = []
    coordinator, sinks, _ = make(lambda r: calls.append(r) or httpx.Response(404))
    health = await coordinator.poll("light:talq")
    assert len(calls) == 1 and sinks.sleeps == []
    assert health.last_error == "light:talq: HTTP 404 from the feed"


async def test_failure_logged_once_then_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    answers = [httpx.Response(500)] * 9 + [httpx.Response(200, content=TALQ)]
    coordinator, sinks, clock = make(lambda r: answers.pop(0))
    caplog.set_level(logging.INFO, logger="hypervision.coordinator")
    for _ in range(3):
        health = await coordinator.poll("light:talq")
        clock.advance(seconds=60)
    assert health.consecutive_failures == 3
    assert health.errors_total == 3
    assert health.last_error == "light:talq: HTTP 500 from the feed"
    assert [d[:2] for d in sinks.dead] == [("light:talq", "light:talq: HTTP 500 from the feed")] * 3
    health = await coordinator.poll("light:talq")
    assert health.consecutive_failures == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("failing" in m for m in messages) == 1
    assert messages.count("source light:talq recovered after 3 failed polls") == 1
    # health changes were reported: the first failure and the recovery, not every failed poll
    assert [h.consecutive_failures for h in sinks.health] == [1, 0]


async def test_unparseable_payload_goes_to_dead_letter_with_raw_bytes_and_no_retry() -> None:
    calls = []
    coordinator, sinks, _ = make(lambda r: calls.append(r) or httpx.Response(200, content=b'{"entries": 3}'))
    health = await coordinator.poll("light:talq")
    assert len(calls) == 1
    assert sinks.dead == [
        ("light:talq", "light:talq: expected an array, got int at entries", b'{"entries": 3}')
    ]
    assert health.consecutive_failures == 1 and sinks.published == []


async def test_bad_items_are_dead_lettered_and_the_others_flow() -> None:
    broken = TALQ.replace(b'"attributeValue": 80', b'"attributeValue": 180')
    coordinator, sinks, _ = make(lambda r: httpx.Response(200, content=broken))
    health = await coordinator.poll("light:talq")
    assert len(sinks.published[0]) == 5
    assert len(sinks.dead) == 1
    _source, reason, raw = sinks.dead[0]
    assert reason == "light:talq: 180 is above the maximum 100 at entries[3].data.attributeValue"
    assert raw == broken
    assert (health.consecutive_failures, health.errors_total) == (0, 1)


async def test_oversize_body_is_refused() -> None:
    small = SOURCE.model_copy(update={"max_bytes": 100})
    coordinator, sinks, _ = make(lambda r: httpx.Response(200, content=TALQ), small)
    health = await coordinator.poll("light:talq")
    assert "over the 100-byte limit" in (health.last_error or "")
    assert sinks.sleeps == []  # retrying would not make it smaller


async def test_a_hanging_feed_times_out() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, content=TALQ)

    coordinator, _sinks, _ = make(hang, SOURCE.model_copy(update={"retries": 0, "timeout_s": 0.05}))
    health = await coordinator.poll("light:talq")
    assert health.last_error is not None and "timed out after 0.05 s" in health.last_error


async def test_source_turns_stale_after_n_intervals_without_fresh_data_and_back() -> None:
    answers = [httpx.Response(200, content=TALQ)] + [httpx.Response(500)] * 20
    coordinator, sinks, clock = make(
        lambda r: answers.pop(0) if answers else httpx.Response(200, content=TALQ)
    )
    await coordinator.poll("light:talq")
    clock.advance(seconds=179)
    assert [h.stale for h in coordinator.health()] == [False]
    clock.advance(seconds=2)  # 3 intervals of 60 s have passed without fresh readings
    assert [h.stale for h in coordinator.health()] == [True]
    changed = await coordinator.check_staleness()
    assert [(h.id, h.stale) for h in changed] == [("light:talq", True)]
    assert await coordinator.check_staleness() == []  # reported once
    answers[:] = [httpx.Response(200, content=TALQ.replace(b"2026-11-30T17:4", b"2026-11-30T18:4"))]
    health = await coordinator.poll("light:talq")
    assert health.stale is False
    assert sinks.health[-1].stale is False


async def test_a_feed_serving_the_same_old_values_turns_stale() -> None:
    coordinator, _, clock = make(lambda r: httpx.Response(200, content=TALQ))
    for _ in range(4):
        health = await coordinator.poll("light:talq")
        clock.advance(seconds=60)
    assert health.consecutive_failures == 0 and health.last_readings == 6
    # every poll succeeds, but nothing newer than 17:46 came for 3 intervals: the upstream is frozen
    assert coordinator.health()[0].stale is True


async def test_a_source_that_never_answered_turns_stale_too() -> None:
    coordinator, _, clock = make(lambda r: httpx.Response(500))
    clock.advance(seconds=181)
    assert coordinator.health()[0].stale is True


async def test_scheduler_polls_each_source_on_its_interval() -> None:
    counts: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        counts[request.url.host] = counts.get(request.url.host, 0) + 1
        return httpx.Response(200, content=TALQ)

    fast = SourceConfig(id="a", kind="talq", url="http://fast.test/", interval_s=0.1)
    slow = SourceConfig(id="b", kind="talq", url="http://slow.test/", interval_s=30)
    coordinator, _sinks, _ = make(handler, fast, slow)
    coordinator.start(staleness_every_s=0.1)
    try:
        await asyncio.sleep(0.65)
    finally:
        coordinator.stop()
    assert counts.get("fast.test", 0) >= 3
    assert counts.get("slow.test", 0) <= 1  # first run spread over its 3 s jitter


async def test_api_lists_every_source_with_health() -> None:
    coordinator, _, clock = make(lambda r: httpx.Response(500))
    app = FastAPI()
    app.include_router(sources_api.router)
    app.state.coordinator = coordinator
    app.dependency_overrides[get_principal] = lambda: Principal(Role.OPERATOR, "op", TokenKind.SESSION, 1)
    await coordinator.poll("light:talq")
    clock.advance(seconds=400)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hv.test") as http:
        body = (await http.get("/api/sources")).json()
        assert [
            (s["id"], s["kind"], s["domain"], s["stale"], s["ok"], s["consecutive_failures"]) for s in body
        ] == [("light:talq", "talq", "lighting", True, False, 1)]
        assert body[0]["last_error"] == "light:talq: HTTP 500 from the feed"
        del app.state.coordinator
        assert (await http.get("/api/sources")).json() == []


async def test_demo_territory_every_source_healthy_and_a_stopped_feed_turns_stale() -> None:
    """The acceptance path without sockets: simulator feeds → real fetch and parsers → health."""
    stopped: set[str] = set()
    clock = FakeClock(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))

    def simulator(request: httpx.Request) -> httpx.Response:
        feeds = render_feeds(clock.now, scenario="normal-day")
        feed = feeds.get(request.url.path)
        if feed is None or request.url.path in stopped:
            return httpx.Response(404)
        return httpx.Response(200, content=feed.body, headers={"content-type": feed.content_type})

    sinks = Sinks()
    sources = demo_sources("http://sim.test", interval_s=30)
    coordinator = Coordinator(
        sources,
        client=httpx.AsyncClient(transport=httpx.MockTransport(simulator)),
        publish=sinks.publish,
        dead_letter=sinks.dead_letter,
        clock=clock,
        sleep=sinks.sleep,
    )
    for source in sources:
        await coordinator.poll(source.id)
    health = {h.id: h for h in coordinator.health()}
    assert all(h.ok and h.last_readings > 0 for h in health.values()), [
        h for h in health.values() if not h.ok
    ]
    assert sinks.dead == []
    assert {r.domain.value for batch in sinks.published for r in batch} == {
        "air",
        "pollen",
        "lighting",
        "waste",
        "mask_drive",
        "hospital",
    }
    stopped.add("/waste/counters.json")
    for _ in range(4):
        clock.advance(seconds=30)
        for source in sources:
            await coordinator.poll(source.id)
    health = {h.id: h for h in coordinator.health()}
    assert health["waste:counters"].stale and health["waste:counters"].consecutive_failures == 4
    assert [h.id for h in health.values() if not h.ok] == ["waste:counters"]


async def test_bus_sinks_write_readings_dead_letters_and_health_to_redis(redis, settings) -> None:
    """With the real Redis: readings reach their shards, a broken feed its dead letter and health event."""
    clock = FakeClock(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    publish, dead_letter, on_health = bus_sinks(redis, settings, clock)
    answers = {"/ok": httpx.Response(200, content=TALQ), "/bad": httpx.Response(200, content=b"<html>oops")}
    good = SOURCE.model_copy(update={"id": "light:good", "url": "http://gw.test/ok"})
    bad = SOURCE.model_copy(update={"id": "light:bad", "url": "http://gw.test/bad"})
    coordinator = Coordinator(
        [good, bad],
        client=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: answers[r.url.path])),
        publish=publish,
        dead_letter=dead_letter,
        on_health=on_health,
        clock=clock,
    )
    await coordinator.poll("light:good")
    await coordinator.poll("light:bad")
    stored = [
        bus.decode_reading(fields[bus.READING_FIELD])
        for shard in range(settings.reading_shards)
        for _id, fields in await redis.xrange(bus.readings_stream(shard))
    ]
    assert len(stored) == 6 and {r.metric for r in stored} >= {"activePower", "lampFailure"}
    letters = await redis.xrange(bus.DEADLETTER_STREAM)
    assert len(letters) == 1
    fields = letters[0][1]
    assert fields[b"source"] == b"light:bad"
    assert fields[b"reason"].startswith(b"light:bad: malformed JSON")
    assert fields[b"raw"] == b"<html>oops"
    mirrored = bus.loads(await redis.hget(bus.SOURCES_HEALTH_KEY, "light:bad"))
    assert (mirrored["consecutive_failures"], mirrored["ok"]) == (1, False)
    entries = await redis.xrange(bus.EVENTS_STREAM)
    assert [(f[b"type"], f[b"topic"]) for _id, f in entries] == [(b"source.health", b"sources")]


async def test_failures_and_rejects_count_in_prometheus() -> None:
    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before_status = sample("hypervision_adapter_failures_total", adapter="talq", reason="status")
    before_parse = sample("hypervision_adapter_failures_total", adapter="talq", reason="parse")
    before_rejects = sample("hypervision_readings_rejected_total", source_kind="pull")
    before_lighting = sample("hypervision_readings_ingested_total", source_kind="pull", domain="lighting")
    broken = TALQ.replace(b'"attributeValue": 80', b'"attributeValue": 180')
    answers = (
        [httpx.Response(500)] * 3
        + [httpx.Response(200, content=b"[")]
        + [httpx.Response(200, content=broken)]
    )
    coordinator, _, _ = make(lambda r: answers.pop(0))
    for _ in range(3):
        await coordinator.poll("light:talq")
    assert sample("hypervision_adapter_failures_total", adapter="talq", reason="status") == before_status + 1
    assert sample("hypervision_adapter_failures_total", adapter="talq", reason="parse") == before_parse + 1
    assert sample("hypervision_readings_rejected_total", source_kind="pull") == before_rejects + 1
    assert (
        sample("hypervision_readings_ingested_total", source_kind="pull", domain="lighting")
        == before_lighting + 5
    )


async def test_a_big_payload_is_parsed_off_the_event_loop() -> None:
    """A whole SI-VIC history (about 10 MB) must not freeze the API and hub sharing the loop."""
    rows = ['"dep";"sexe";"jour";"hosp";"rea";"rad";"dc"']
    for day in range(1000):
        jour = (datetime(2020, 3, 18) + timedelta(days=day)).date().isoformat()
        rows += [
            f'"{dep:02d}";{sexe};"{jour}";{dep + day};{day % 90};{day};{dep}'
            for dep in range(1, 102)
            for sexe in (0, 1, 2)
        ]
    body = ("\n".join(rows) + "\n").encode()
    source = SourceConfig(
        id="hosp:sivic", kind="sivic", url="http://sivic.test/", max_bytes=50_000_000, timeout_s=30
    )
    coordinator, sinks, _ = make(lambda r: httpx.Response(200, content=body), source)
    # What the loop would freeze for if the parse ran on it, on this machine and at this load.
    started = time.perf_counter()
    sivic.parse(body, received_at=datetime.now(UTC), source=source)
    on_loop_s = time.perf_counter() - started
    gaps: list[float] = []

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    tick = asyncio.create_task(ticker())
    try:
        health = await coordinator.poll("hosp:sivic")
    finally:
        tick.cancel()
    assert health.last_readings == 101 * 4
    hosp = {r.source: r.value for r in sinks.published[0] if r.metric == "hospitalized"}
    assert hosp["hosp:sivic/21"] == 21 + 999  # the last day's figure
    assert max(gaps) < on_loop_s / 2, (max(gaps), on_loop_s)


async def test_api_reads_the_health_mirror_when_the_poller_runs_elsewhere(redis, settings) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    publish, dead_letter, on_health = bus_sinks(redis, settings, clock)
    coordinator = Coordinator(
        [SOURCE],
        client=httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, content=TALQ))),
        publish=publish,
        dead_letter=dead_letter,
        on_health=on_health,
        clock=clock,
    )
    await coordinator.poll("light:talq")
    app = FastAPI()
    app.include_router(sources_api.router)
    app.state.runtime = SimpleNamespace(redis=redis, clock=clock)  # an API process: no coordinator here
    app.dependency_overrides[get_principal] = lambda: Principal(Role.SCREEN, "wall", TokenKind.SCREEN, 2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hv.test") as http:
        body = (await http.get("/api/sources")).json()
        assert [(s["id"], s["ok"], s["stale"], s["readings_total"]) for s in body] == [
            ("light:talq", True, False, 6)
        ]
        clock.advance(seconds=181)  # the poller died: nothing refreshed the mirror for 3 intervals
        body = (await http.get("/api/sources")).json()
        assert [(s["id"], s["ok"], s["stale"]) for s in body] == [("light:talq", False, True)]
